import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ArchiveTarget, checkedArchiveKey } from './archive-target';

/**
 * Archives in a local directory (a mounted volume, say). Each file is written under a hidden temporary name
 * in its final directory, flushed to disk, then renamed over the final name, so a reader (or a crash) never
 * sees half a file under a real name.
 */
export class DirectoryArchiveTarget implements ArchiveTarget {
  readonly location: string;
  private readonly root: string;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new Error(`The archive directory must be an absolute path, got ${JSON.stringify(root)}`);
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  /** The file a key is stored in. */
  pathOf(key: string): string {
    return join(this.root, ...checkedArchiveKey(key).split('/'));
  }

  async put(key: string, body: Readable): Promise<void> {
    const path = this.pathOf(key);
    const directory = dirname(path);
    await mkdir(directory, { recursive: true });
    const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await pipeline(body, createWriteStream(temporary, { flags: 'wx' }));
      await fsync(temporary);
      await rename(temporary, path);
    } catch (e) {
      body.destroy();
      await rm(temporary, { force: true });
      throw e;
    }
    // The rename is durable only once the directory entry is.
    await fsync(directory);
    await this.removeLeftovers(directory, basename(path));
  }

  async get(key: string): Promise<Readable | null> {
    try {
      const handle = await open(this.pathOf(key), 'r');
      return handle.createReadStream();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async close(): Promise<void> {}

  /** Temporary files of the same name that a killed process left behind. */
  private async removeLeftovers(directory: string, name: string): Promise<void> {
    const prefix = `.${name}.`;
    for (const entry of await readdir(directory)) {
      if (entry.startsWith(prefix) && entry.endsWith('.tmp')) await rm(join(directory, entry), { force: true });
    }
  }
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
