import { Test } from '@nestjs/testing';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Pool } from 'pg';
import { archiveTargetFromConfig, ArchiveTargetSettings } from './archive.config';
import { adminQuery, adminUrl } from '../../../persistence/test/repository-database';
import { ArchiveError, ArchiveVerificationError } from './archive-errors';
import { ArchiveManifest, DayManifest, PartitionExport } from './archive-manifest';
import type { ArchiveTarget } from './archive-target';
import { DirectoryArchiveTarget } from './directory-archive-target';
import { ARCHIVE_CONNECTIONS, ARCHIVE_TARGET, PartitionArchiver } from './partition-archiver';

/**
 * The archiver on a real PostgreSQL database of its own (partitioned tables shaped like the hub's, rows with
 * every awkward value), to a directory and to a real S3-compatible server (s3rver) on loopback.
 */

const DAY = '2026-11-01';
const NEXT_DAY = '2026-11-02';
const DELIVERIES: PartitionExport = { table: 'deliveries', partition: 'deliveries_p20261101', day: DAY };
const EVENTS: PartitionExport = { table: 'events', partition: 'events_p20261101', day: DAY };
const DELIVERIES_NEXT_DAY: PartitionExport = { table: 'deliveries', partition: 'deliveries_p20261102', day: NEXT_DAY };

/** Text, JSON and bytes that break naive CSV, COPY text format or line splitting. */
const AWKWARD_TEXT = [
  'line one\nline two',
  'carriage\r\nreturn',
  'tab\there',
  'quotes "double" and \'single\'',
  'back\\slash \\n not a newline \\\\',
  'unicode é ü 漢字 😀 \u2028 \u2029 \u200b',
  'control \u0001 \u0002 \u001f',
  '\\.',
  ',;|',
  '',
];

const SCHEMA = `
  CREATE TABLE deliveries (
    id integer NOT NULL, created_at timestamptz NOT NULL, tenant_id uuid NOT NULL, status text NOT NULL,
    reason text NULL, envelope json NULL, headers jsonb NULL, body bytea NULL, tags text[] NULL, amount numeric NULL,
    delivered_at timestamptz NULL, wait interval NULL, parked boolean NOT NULL DEFAULT false, code varchar(16) NULL
  ) PARTITION BY RANGE (created_at);
  CREATE TABLE deliveries_p20261101 PARTITION OF deliveries FOR VALUES FROM ('${DAY}T00:00:00Z') TO ('${NEXT_DAY}T00:00:00Z');
  CREATE TABLE deliveries_p20261102 PARTITION OF deliveries FOR VALUES FROM ('${NEXT_DAY}T00:00:00Z') TO ('2026-11-03T00:00:00Z');
  CREATE TABLE events (id text NOT NULL, recorded_at timestamptz NOT NULL, envelope json NOT NULL) PARTITION BY RANGE (recorded_at);
  CREATE TABLE events_p20261101 PARTITION OF events FOR VALUES FROM ('${DAY}T00:00:00Z') TO ('${NEXT_DAY}T00:00:00Z');

  INSERT INTO deliveries (id, created_at, tenant_id, status, reason, envelope, headers, body, tags, amount, delivered_at, wait, parked, code)
  SELECT i, timestamptz '${DAY}T00:00:00Z' + i * interval '17 seconds 123457 microseconds', md5(i::text)::uuid,
         (ARRAY['pending', 'retrying', 'delivered', 'failed'])[1 + i % 4],
         CASE WHEN i % 7 = 0 THEN NULL ELSE 'reason ' || i || E'\\n"quoted" \\\\ é' END,
         json_build_object('id', 'evt-' || i, 'n', i, 'text', E'a\\tb\\nc "d" \\\\ 😀', 'list', json_build_array(i, NULL, true, 1.5)),
         jsonb_build_object('content-type', 'application/json', 'x-seq', i),
         decode(md5(i::text) || '000a5c0d', 'hex'),
         ARRAY['a,b', 'c"d', E'e\\nf', NULL],
         i * 1.25,
         CASE WHEN i % 3 = 0 THEN NULL ELSE timestamptz '${DAY}T12:00:00.000001+02' + i * interval '1 microsecond' END,
         i * interval '1.5 seconds',
         i % 2 = 0,
         lpad(i::text, 16, 'x')
    FROM generate_series(1, 3000) i;
  INSERT INTO deliveries (id, created_at, tenant_id, status, body)
  SELECT 100000 + i, timestamptz '${NEXT_DAY}T00:00:00Z' + i * interval '1 minute', md5(i::text)::uuid, 'delivered', '\\x00'
    FROM generate_series(1, 500) i;
  INSERT INTO events (id, recorded_at, envelope)
  SELECT 'evt-' || i, timestamptz '${DAY}T00:00:00Z' + i * interval '1 minute', json_build_object('id', 'evt-' || i, 'payload', repeat('x', i % 50))
    FROM generate_series(1, 1200) i;
`;

async function insertAwkwardRows(pool: Pool): Promise<void> {
  for (const [n, text] of AWKWARD_TEXT.entries()) {
    await pool.query(
      `INSERT INTO deliveries (id, created_at, tenant_id, status, reason, envelope, headers, body, tags, amount, delivered_at, code)
       VALUES ($1, $2, $3, 'failed', $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        50_000 + n,
        `${DAY}T23:59:59.999999Z`,
        '00000000-0000-4000-8000-00000000000' + (n % 10),
        text,
        // A json column keeps its text: pretty-printed, with raw line breaks between tokens and duplicate keys.
        `{\n\t"text": ${JSON.stringify(text)},\r\n  "dup": 1, "dup": 2,\n  "big": 123456789012345678901234567890.000000000001, "nested": {"a": [1, {"b": null}]}\n}`,
        JSON.stringify({ text, empty: {}, list: [] }),
        Buffer.from([0, 10, 13, 92, 34, 44, 255, n]),
        [text, null, ''],
        '12345678901234567890.123456789012345678901234567890',
        n % 2 === 0 ? 'infinity' : '-infinity',
        text.slice(0, 16),
      ],
    );
  }
}

/** The partition's rows as `row_to_json` gives them (parsed by pg with JSON.parse), by id. */
async function sourceRows(pool: Pool, partition: string): Promise<Map<string, unknown>> {
  const { rows } = await pool.query<{ row: Record<string, unknown> }>(
    `SELECT row_to_json(t) AS row FROM (SELECT * FROM ONLY ${partition}) t` /* the session's TimeZone is UTC, as the archiver's */,
  );
  return new Map(rows.map(({ row }) => [String(row.id), row]));
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The lines of a stored .ndjson.gz file, each parsed, by id. */
function parsedLines(gz: Buffer): Map<string, unknown> {
  const text = gunzipSync(gz).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  const rows = text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return new Map(rows.map((row) => [String(row.id), row]));
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

async function verifyError(archiver: PartitionArchiver, manifest: ArchiveManifest): Promise<ArchiveVerificationError> {
  try {
    await archiver.verify(manifest);
  } catch (e) {
    if (e instanceof ArchiveVerificationError) return e;
    throw e;
  }
  throw new Error('verify() passed');
}

describe('PartitionArchiver', () => {
  const database = `hookhub_archive_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let pool: Pool;
  let workDir: string;

  function databaseUrl(): string {
    const url = new URL(adminUrl());
    url.pathname = `/${database}`;
    return url.toString();
  }

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${database}`);
    pool = new Pool({ connectionString: databaseUrl(), max: 3, options: '-c TimeZone=UTC' });
    await pool.query(SCHEMA);
    await insertAwkwardRows(pool);
    workDir = await mkdtemp(join(tmpdir(), 'hookhub-archive-'));
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  async function directoryArchiver(): Promise<{ archiver: PartitionArchiver; root: string }> {
    const root = await mkdtemp(join(workDir, 'dir-'));
    return { archiver: new PartitionArchiver(new DirectoryArchiveTarget(root), pool), root };
  }

  async function count(partition: string): Promise<number> {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ONLY ${partition}`);
    return rows[0].n;
  }

  it('is a Nest provider built from its two tokens', async () => {
    const root = await mkdtemp(join(workDir, 'nest-'));
    const moduleRef = await Test.createTestingModule({
      providers: [PartitionArchiver, { provide: ARCHIVE_TARGET, useValue: new DirectoryArchiveTarget(root) }, { provide: ARCHIVE_CONNECTIONS, useValue: pool }],
    }).compile();
    const archiver = moduleRef.get(PartitionArchiver);
    await archiver.verify(await archiver.archive([EVENTS]));
    await moduleRef.close();
  });

  describe('to a directory', () => {
    it('writes one gzipped NDJSON file per table and day whose lines parse back to the rows, and a manifest with counts, sizes, sha256 and columns', async () => {
      const { archiver, root } = await directoryArchiver();
      const manifest = await archiver.archive([DELIVERIES, EVENTS]);

      expect(await listTree(root)).toEqual(['2026/11/01/deliveries.ndjson.gz', '2026/11/01/events.ndjson.gz', '2026/11/01/manifest.json']);
      expect(manifest).toMatchObject({ format: 'hookhub-archive/1', location: `file://${root}`, manifests: ['2026/11/01/manifest.json'] });
      expect(manifest.files.map(({ table, partition, day, key, rows }) => ({ table, partition, day, key, rows }))).toEqual([
        { ...DELIVERIES, key: '2026/11/01/deliveries.ndjson.gz', rows: await count('deliveries_p20261101') },
        { ...EVENTS, key: '2026/11/01/events.ndjson.gz', rows: await count('events_p20261101') },
      ]);
      expect(manifest.files[0].rows).toBe(3000 + AWKWARD_TEXT.length);

      for (const file of manifest.files) {
        const stored = await readFile(join(root, file.key));
        expect({ key: file.key, bytes: stored.length, sha256: sha256(stored) }).toEqual({ key: file.key, bytes: file.bytes, sha256: file.sha256 });
        const lines = parsedLines(stored);
        expect(lines.size).toBe(file.rows);
        // Every row, every value: what JSON.parse reads from the file equals row_to_json of the source row.
        expect(lines).toEqual(await sourceRows(pool, file.partition));
      }

      expect(manifest.files[0].columns).toEqual([
        { name: 'id', type: 'integer' },
        { name: 'created_at', type: 'timestamp with time zone' },
        { name: 'tenant_id', type: 'uuid' },
        { name: 'status', type: 'text' },
        { name: 'reason', type: 'text' },
        { name: 'envelope', type: 'json' },
        { name: 'headers', type: 'jsonb' },
        { name: 'body', type: 'bytea' },
        { name: 'tags', type: 'text[]' },
        { name: 'amount', type: 'numeric' },
        { name: 'delivered_at', type: 'timestamp with time zone' },
        { name: 'wait', type: 'interval' },
        { name: 'parked', type: 'boolean' },
        { name: 'code', type: 'character varying(16)' },
      ]);

      const onDisk = JSON.parse(await readFile(join(root, '2026/11/01/manifest.json'), 'utf8')) as DayManifest;
      expect(onDisk).toEqual({ format: 'hookhub-archive/1', day: DAY, updatedAt: expect.any(String), files: manifest.files });
      await expect(archiver.verify(manifest)).resolves.toBeUndefined();
    });

    it('writes the exact text of awkward values: line breaks, quotes, backslashes, unicode and bytes survive', async () => {
      const { archiver, root } = await directoryArchiver();
      const manifest = await archiver.archive([DELIVERIES]);
      const lines = parsedLines(await readFile(join(root, manifest.files[0].key)));
      for (const [n, text] of AWKWARD_TEXT.entries()) {
        const row = lines.get(String(50_000 + n)) as Record<string, unknown>;
        expect(row.reason).toBe(text);
        expect(row.envelope).toEqual({
          text,
          dup: 2,
          big: JSON.parse('123456789012345678901234567890.000000000001') as number,
          nested: { a: [1, { b: null }] },
        });
        expect(row.body).toBe(`\\x000a0d5c222cff0${n}`);
        expect(row.tags).toEqual([text, null, '']);
        expect(row.created_at).toBe('2026-11-01T23:59:59.999999+00:00');
        expect(row.delivered_at).toBe(n % 2 === 0 ? 'infinity' : '-infinity');
      }
    });

    it('a second archive of the same day overwrites its files and manifest entries, and keeps the entries of tables not archived again', async () => {
      const { archiver, root } = await directoryArchiver();
      const first = await archiver.archive([DELIVERIES, EVENTS]);
      const again = await archiver.archive([DELIVERIES, EVENTS]);
      expect(again.files.map((f) => [f.key, f.rows, f.sha256])).toEqual(first.files.map((f) => [f.key, f.rows, f.sha256]));

      // Rows removed meanwhile (a tenant's shorter retention): only the deliveries of that day are archived again.
      await pool.query(`DELETE FROM deliveries_p20261101 WHERE id <= 10`);
      try {
        const later = await archiver.archive([DELIVERIES]);
        expect(later.files[0].rows).toBe(first.files[0].rows - 10);
        await archiver.verify(later);
        await archiver.verify({ ...first, files: [first.files[1]] });

        const day = await archiver.dayManifest(DAY);
        expect(day?.files.map((f) => [f.table, f.rows, f.sha256])).toEqual([
          ['deliveries', later.files[0].rows, later.files[0].sha256],
          ['events', first.files[1].rows, first.files[1].sha256],
        ]);
        expect(await listTree(root)).toEqual(['2026/11/01/deliveries.ndjson.gz', '2026/11/01/events.ndjson.gz', '2026/11/01/manifest.json']);
        // The first run's manifest no longer describes the stored deliveries file.
        expect((await verifyError(archiver, first)).problems).toEqual([
          expect.stringMatching(/^deliveries 2026-11-01 \(2026\/11\/01\/deliveries\.ndjson\.gz\): \d+ bytes stored, the manifest says \d+$/),
          expect.stringMatching(/: sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/),
          `deliveries 2026-11-01 (2026/11/01/deliveries.ndjson.gz): ${later.files[0].rows} rows stored, the manifest says ${first.files[0].rows}`,
          'deliveries 2026-11-01 (2026/11/01/deliveries.ndjson.gz): 2026/11/01/manifest.json lists it differently',
        ]);
      } finally {
        await pool.query(
          `INSERT INTO deliveries (id, created_at, tenant_id, status) SELECT i, timestamptz '${DAY}T00:00:00Z' + i * interval '17 seconds 123457 microseconds', md5(i::text)::uuid, 'pending' FROM generate_series(1, 10) i`,
        );
      }
    });

    it('writes one manifest per day when a run spans days', async () => {
      const { archiver, root } = await directoryArchiver();
      const manifest = await archiver.archive([DELIVERIES_NEXT_DAY, EVENTS]);
      expect(manifest.manifests).toEqual(['2026/11/01/manifest.json', '2026/11/02/manifest.json']);
      expect(await listTree(root)).toEqual([
        '2026/11/01/events.ndjson.gz',
        '2026/11/01/manifest.json',
        '2026/11/02/deliveries.ndjson.gz',
        '2026/11/02/manifest.json',
      ]);
      expect(manifest.files.find((f) => f.day === NEXT_DAY)?.rows).toBe(500);
      expect((await archiver.dayManifest(NEXT_DAY))?.files.map((f) => f.table)).toEqual(['deliveries']);
      await archiver.verify(manifest);
    });

    it('verify() fails on a truncated file, a corrupted byte, a missing file and a manifest that lists a file differently', async () => {
      const { archiver, root } = await directoryArchiver();
      const manifest = await archiver.archive([DELIVERIES, EVENTS]);
      await archiver.verify(manifest);
      const [deliveries, events] = manifest.files;

      await truncate(join(root, deliveries.key), Math.floor(deliveries.bytes / 2));
      const truncated = await verifyError(archiver, manifest);
      expect(truncated.problems).toEqual([
        expect.stringMatching(/^deliveries 2026-11-01 \(2026\/11\/01\/deliveries\.ndjson\.gz\): unreadable: unexpected end of file$/),
      ]);
      expect(truncated.message).toMatch(/^Archive at file:\/\/.+ failed verification:\n {2}deliveries 2026-11-01 /);

      await archiver.archive([DELIVERIES]);
      const path = join(root, events.key);
      const bytes = await readFile(path);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      await writeFile(path, bytes);
      const corrupted = await verifyError(archiver, manifest);
      expect(corrupted.problems.filter((p) => p.startsWith('events '))).toContainEqual(expect.stringMatching(/^events 2026-11-01 .*: (unreadable|sha256)/));

      await rm(path);
      expect((await verifyError(archiver, { ...manifest, files: [events] })).problems).toEqual(['events 2026-11-01 (2026/11/01/events.ndjson.gz): missing']);

      await archiver.archive([EVENTS]);
      const fresh = await archiver.archive([DELIVERIES]);
      await archiver.verify(fresh);
      const lied = { ...fresh, files: [{ ...fresh.files[0], rows: fresh.files[0].rows + 1 }] };
      expect((await verifyError(archiver, lied)).problems).toEqual([
        `deliveries 2026-11-01 (2026/11/01/deliveries.ndjson.gz): ${fresh.files[0].rows} rows stored, the manifest says ${fresh.files[0].rows + 1}`,
        'deliveries 2026-11-01 (2026/11/01/deliveries.ndjson.gz): 2026/11/01/manifest.json lists it differently',
      ]);
    });

    it('refuses a missing partition, a partitioned parent, bad names and days, and a table listed twice for a day; the pool stays usable', async () => {
      const { archiver, root } = await directoryArchiver();
      await expect(archiver.archive([{ table: 'deliveries', partition: 'deliveries_p20991231', day: '2099-12-31' }])).rejects.toThrow(
        new ArchiveError('Partition deliveries_p20991231 does not exist'),
      );
      await expect(archiver.archive([{ table: 'deliveries', partition: 'deliveries', day: DAY }])).rejects.toThrow(/not a partition or plain table/);
      await expect(archiver.archive([{ ...DELIVERIES, partition: 'deliveries_p20261101; DROP TABLE events' }])).rejects.toThrow(/Not a partition name/);
      await expect(archiver.archive([{ ...DELIVERIES, table: '../etc' }])).rejects.toThrow(/Not a table name/);
      await expect(archiver.archive([{ ...DELIVERIES, day: '2026-02-30' }])).rejects.toThrow(/Not a day/);
      await expect(archiver.archive([DELIVERIES, { ...DELIVERIES }])).rejects.toThrow('deliveries 2026-11-01 is listed twice');
      expect(await listTree(root)).toEqual([]);
      expect(pool.totalCount - pool.idleCount).toBe(0);
      await archiver.verify(await archiver.archive([EVENTS]));
    });

    it('ends its transaction once the rows are read: a slow end of upload does not hit the idle-in-transaction timeout', async () => {
      const root = await mkdtemp(join(workDir, 'slow-'));
      const directory = new DirectoryArchiveTarget(root);
      // Takes the whole body, then needs longer than the session's idle-in-transaction timeout to complete.
      const slow: ArchiveTarget = {
        location: directory.location,
        put: async (key, body) => {
          const chunks: Buffer[] = [];
          for await (const chunk of body) chunks.push(chunk as Buffer);
          await new Promise((r) => setTimeout(r, 600));
          await directory.put(key, Readable.from(chunks));
        },
        get: (key) => directory.get(key),
        close: () => directory.close(),
      };
      const strict = new Pool({ connectionString: databaseUrl(), max: 1, options: '-c TimeZone=UTC -c idle_in_transaction_session_timeout=200' });
      try {
        const archiver = new PartitionArchiver(slow, strict);
        await archiver.verify(await archiver.archive([EVENTS]));
      } finally {
        await strict.end();
      }
    });

    it('rejects, keeping the earlier file and the process, when its session is terminated mid-export', async () => {
      const { archiver: first, root } = await directoryArchiver();
      const earlier = await first.archive([DELIVERIES]);
      const directory = new DirectoryArchiveTarget(root);
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => (release = r));
      // Reads nothing until released, so the COPY stalls with the session active.
      const stalled: ArchiveTarget = {
        location: directory.location,
        put: async (key, body) => {
          await held;
          await directory.put(key, body);
        },
        get: (key) => directory.get(key),
        close: () => directory.close(),
      };
      const archiving = new PartitionArchiver(stalled, pool).archive([DELIVERIES]);
      const outcome = archiving.then(
        () => 'archived',
        (e: Error) => e.message,
      );
      let terminated = 0;
      for (let i = 0; i < 100 && terminated === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY (SELECT translate(row_to_json%'`,
        );
        terminated = rows[0].n;
      }
      release();
      expect(terminated).toBe(1);
      // The server's own message when the COPY was running; the client's when the socket closed between its reads (CI under load).
      expect(await outcome).toMatch(/terminat|connection error/i);
      await first.verify(earlier);
      expect(pool.totalCount - pool.idleCount).toBe(0);
    });

    it('loads an archived file back into an empty copy of the table with the command in docs/archive.md, row for row', async () => {
      const { archiver, root } = await directoryArchiver();
      const manifest = await archiver.archive([DELIVERIES]);
      const docs = await readFile(join(__dirname, '../../../../docs/archive.md'), 'utf8');
      const command = /<!-- load-back:[^\n]*-->\s*```sh\n([\s\S]*?)```/.exec(docs)?.[1];
      expect(command).toContain('json_populate_record');

      await pool.query(`CREATE TABLE deliveries_restored (LIKE deliveries_p20261101 INCLUDING ALL)`);
      await promisify(execFile)('bash', ['-c', command as string], {
        env: { ...process.env, DATABASE_URL: databaseUrl(), FILE: join(root, manifest.files[0].key), TABLE: 'deliveries_restored' },
      });

      // Equal as values (jsonb compares json columns without their whitespace), in both directions, with duplicates.
      const { rows } = await pool.query<{ restored: number; missing: number; extra: number; json_text_differs: number }>(`
        SELECT (SELECT count(*) FROM deliveries_restored)::int AS restored,
               (SELECT count(*) FROM (SELECT to_jsonb(s) FROM deliveries_p20261101 s EXCEPT ALL SELECT to_jsonb(r) FROM deliveries_restored r) x)::int AS missing,
               (SELECT count(*) FROM (SELECT to_jsonb(r) FROM deliveries_restored r EXCEPT ALL SELECT to_jsonb(s) FROM deliveries_p20261101 s) x)::int AS extra,
               (SELECT count(*) FROM deliveries_p20261101 s JOIN deliveries_restored r USING (id)
                 WHERE s.envelope::text <> r.envelope::text AND s.envelope::text NOT LIKE E'%\\n%')::int AS json_text_differs`);
      expect(rows[0]).toEqual({ restored: manifest.files[0].rows, missing: 0, extra: 0, json_text_differs: 0 });
      await pool.query(`DROP TABLE deliveries_restored`);
    });
  });

  describe('to S3 (s3rver on loopback)', () => {
    interface S3rverInstance {
      run(): Promise<{ address: string; port: number }>;
      close(): Promise<void>;
    }
    // s3rver ships no type declarations.
    const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

    const bucket = 'hookhub-archive';
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    let server: S3rverInstance;
    let endpoint: string;
    let client: S3Client;
    const targets: ArchiveTarget[] = [];
    const savedEnv = { ...process.env };

    beforeAll(async () => {
      // The SDK's notice that its 2027 releases will need Node 22 would print in the test output.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      // The target reads credentials through the SDK's default chain, as in production.
      process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
      server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: await mkdtemp(join(workDir, 's3-')) });
      const { port } = await server.run();
      endpoint = `http://127.0.0.1:${port}`;
      client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    }, 30_000);

    afterAll(async () => {
      for (const target of targets) await target.close();
      client?.destroy();
      await server?.close();
      process.env = savedEnv;
    });

    function s3Archiver(overrides: Partial<ArchiveTargetSettings> = {}): PartitionArchiver {
      const target = archiveTargetFromConfig({
        ARCHIVE_TARGET: 's3',
        ARCHIVE_S3_BUCKET: bucket,
        ARCHIVE_S3_PREFIX: 'hub/archive',
        ARCHIVE_S3_ENDPOINT: endpoint,
        ARCHIVE_S3_REGION: 'us-east-1',
        ARCHIVE_S3_FORCE_PATH_STYLE: true,
        ...overrides,
      }) as ArchiveTarget;
      targets.push(target);
      return new PartitionArchiver(target, pool);
    }

    async function object(key: string): Promise<Buffer> {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    }

    it('uploads the files and manifest under the prefix, re-archives cleanly, and verify() reads them back', async () => {
      const archiver = s3Archiver();
      expect(archiver.location).toBe('s3://hookhub-archive/hub/archive');
      const manifest = await archiver.archive([DELIVERIES, EVENTS]);
      await archiver.verify(manifest);

      for (const file of manifest.files) {
        const stored = await object(`hub/archive/${file.key}`);
        expect({ bytes: stored.length, sha256: sha256(stored) }).toEqual({ bytes: file.bytes, sha256: file.sha256 });
        expect(parsedLines(stored)).toEqual(await sourceRows(pool, file.partition));
      }
      const day = JSON.parse((await object('hub/archive/2026/11/01/manifest.json')).toString('utf8')) as DayManifest;
      expect(day.files).toEqual(manifest.files);

      const again = await archiver.archive([DELIVERIES]);
      await archiver.verify(again);
      expect((await archiver.dayManifest(DAY))?.files.map((f) => f.table)).toEqual(['deliveries', 'events']);
    });

    it('streams a partition larger than one multipart part', async () => {
      await pool.query(`CREATE TABLE big_p20261101 (id int, filler text)`);
      // Hex digests compress to about half, so the gzipped file spans two 5 MiB parts.
      await pool.query(
        `INSERT INTO big_p20261101 SELECT i, (SELECT string_agg(md5(i::text || ':' || j), '') FROM generate_series(1, 25) j) FROM generate_series(1, 20000) i`,
      );
      try {
        const archiver = s3Archiver();
        const manifest = await archiver.archive([{ table: 'big', partition: 'big_p20261101', day: DAY }]);
        expect(manifest.files[0]).toMatchObject({ rows: 20000, bytes: expect.any(Number) });
        expect(manifest.files[0].bytes).toBeGreaterThan(5 * 1024 * 1024);
        await archiver.verify(manifest);
      } finally {
        await pool.query(`DROP TABLE big_p20261101`);
      }
    }, 60_000);

    it('verify() fails when the stored object differs from the manifest', async () => {
      const archiver = s3Archiver();
      const manifest = await archiver.archive([EVENTS]);
      const stored = await object('hub/archive/2026/11/01/events.ndjson.gz');
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'hub/archive/2026/11/01/events.ndjson.gz', Body: stored.subarray(0, stored.length - 9) }));
      expect((await verifyError(archiver, manifest)).problems).toEqual([
        expect.stringMatching(/^events 2026-11-01 \(2026\/11\/01\/events\.ndjson\.gz\): unreadable: /),
      ]);
      await archiver.verify(await archiver.archive([EVENTS]));
    });

    it('rejects when the upload fails (no such bucket), and releases its connection', async () => {
      const archiver = s3Archiver({ ARCHIVE_S3_BUCKET: 'no-such-bucket' });
      await expect(archiver.archive([EVENTS])).rejects.toThrow(/bucket does not exist/);
      expect(pool.totalCount - pool.idleCount).toBe(0);
      await expect(pool.query('SELECT 1')).resolves.toBeDefined();
    });
  });
});
