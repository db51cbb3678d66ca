import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DirectoryArchiveTarget } from './directory-archive-target';

async function text(body: Readable | null): Promise<string | null> {
  if (!body) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Yields some bytes, then fails, as a COPY cut off by the database would. */
async function* failingMidway(): AsyncGenerator<Buffer> {
  yield Buffer.from('half a file');
  throw new Error('connection lost');
}

describe('DirectoryArchiveTarget', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hookhub-archive-dir-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('stores a key under its folders, replaces it on the next put, and reads it back', async () => {
    const target = new DirectoryArchiveTarget(root);
    await target.put('2026/11/01/events.ndjson.gz', Readable.from([Buffer.from('first')]));
    await target.put('2026/11/01/events.ndjson.gz', Readable.from([Buffer.from('second')]));
    expect(await readFile(join(root, '2026/11/01/events.ndjson.gz'), 'utf8')).toBe('second');
    expect(await text(await target.get('2026/11/01/events.ndjson.gz'))).toBe('second');
    expect(await target.get('2026/11/02/events.ndjson.gz')).toBeNull();
    expect(await readdir(join(root, '2026/11/01'))).toEqual(['events.ndjson.gz']);
  });

  it('leaves the earlier file and no temporary file when a write fails midway', async () => {
    const target = new DirectoryArchiveTarget(root);
    await target.put('2026/11/01/events.ndjson.gz', Readable.from([Buffer.from('complete')]));
    await expect(target.put('2026/11/01/events.ndjson.gz', Readable.from(failingMidway()))).rejects.toThrow('connection lost');
    await expect(target.put('2026/11/01/deliveries.ndjson.gz', Readable.from(failingMidway()))).rejects.toThrow('connection lost');
    expect(await readdir(join(root, '2026/11/01'))).toEqual(['events.ndjson.gz']);
    expect(await readFile(join(root, '2026/11/01/events.ndjson.gz'), 'utf8')).toBe('complete');
  });

  it("removes a killed writer's temporary file on the next write of that name", async () => {
    const target = new DirectoryArchiveTarget(root);
    await target.put('2026/11/01/manifest.json', Readable.from([Buffer.from('{}')]));
    await writeFile(join(root, '2026/11/01/.manifest.json.0123456789ab.tmp'), 'left by a SIGKILL');
    await target.put('2026/11/01/manifest.json', Readable.from([Buffer.from('{"v":2}')]));
    expect(await readdir(join(root, '2026/11/01'))).toEqual(['manifest.json']);
  });

  it.each(['../outside', '/absolute', 'a//b', '.hidden', 'a/./b', 'a/../b', 'trailing/', ''])('refuses the key %j', async (key) => {
    const target = new DirectoryArchiveTarget(root);
    await expect(target.put(key, Readable.from([Buffer.from('x')]))).rejects.toThrow('Not an archive key');
    await expect(target.get(key)).rejects.toThrow('Not an archive key');
  });

  it('needs an absolute root', () => {
    expect(() => new DirectoryArchiveTarget('archive')).toThrow('The archive directory must be an absolute path, got "archive"');
  });
});
