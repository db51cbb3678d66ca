import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable, Transform, TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ArchiveError, ArchiveVerificationError } from './archive-errors';
import {
  ARCHIVE_FORMAT,
  ArchivedColumn,
  ArchivedFile,
  archiveFileKey,
  ArchiveManifest,
  archiveManifestKey,
  DayManifest,
  isArchiveDay,
  isArchiveIdentifier,
  PartitionExport,
} from './archive-manifest';
import { ArchiveTarget, GZIP_CONTENT_TYPE, JSON_CONTENT_TYPE } from './archive-target';

export const ARCHIVE_TARGET = Symbol('ARCHIVE_TARGET');
export const ARCHIVE_CONNECTIONS = Symbol('ARCHIVE_CONNECTIONS');

/**
 * Where the archiver gets its database sessions: a `pg.Pool` will do. A pool of its own (one connection)
 * is best: each export holds a session in one transaction for as long as the partition takes to stream.
 */
export interface ArchiveConnections {
  connect(): Promise<PoolClient>;
}

/**
 * Exports partitions as gzipped NDJSON (one `row_to_json` object per line) to an archive target, with a
 * manifest per day, and verifies what was stored. The retention run drops a partition only after
 * `verify()` of the manifest `archive()` returned has succeeded.
 *
 * Day manifests are read, merged and rewritten: callers serialise runs (the retention run's advisory lock).
 */
@Injectable()
export class PartitionArchiver {
  constructor(
    @Inject(ARCHIVE_TARGET) private readonly target: ArchiveTarget,
    @Inject(ARCHIVE_CONNECTIONS) private readonly connections: ArchiveConnections,
  ) {}

  get location(): string {
    return this.target.location;
  }

  /**
   * Exports each partition to `<YYYY>/<MM>/<DD>/<table>.ndjson.gz`, one after the other, then writes each
   * day's `manifest.json` (earlier entries of other tables kept, those of the tables exported now replaced).
   * Archiving the same day again overwrites its files.
   */
  async archive(exports: readonly PartitionExport[]): Promise<ArchiveManifest> {
    checkExports(exports);
    const files: ArchivedFile[] = [];
    for (const partition of exports) files.push(await this.exportPartition(partition));

    const manifests: string[] = [];
    for (const day of [...new Set(files.map((f) => f.day))].sort()) {
      manifests.push(
        await this.writeDayManifest(
          day,
          files.filter((f) => f.day === day),
        ),
      );
    }
    return { format: ARCHIVE_FORMAT, location: this.target.location, createdAt: new Date().toISOString(), files, manifests };
  }

  /**
   * Reads every file of the manifest back from the target and checks its size, sha256 and line count, and that
   * its day's manifest.json lists it the same way. Throws ArchiveVerificationError naming every difference.
   */
  async verify(manifest: ArchiveManifest): Promise<void> {
    const problems: string[] = [];
    const days = new Map<string, DayManifest | null | Error>();
    for (const file of manifest.files) {
      const what = `${file.table} ${file.day} (${file.key})`;
      const stored = await this.readBack(file.key).catch(asError);
      if (stored === null) problems.push(`${what}: missing`);
      else if (stored instanceof Error) problems.push(`${what}: unreadable: ${stored.message}`);
      else {
        if (stored.bytes !== file.bytes) problems.push(`${what}: ${stored.bytes} bytes stored, the manifest says ${file.bytes}`);
        if (stored.sha256 !== file.sha256) problems.push(`${what}: sha256 ${stored.sha256}, the manifest says ${file.sha256}`);
        if (stored.rows !== file.rows) problems.push(`${what}: ${stored.rows} rows stored, the manifest says ${file.rows}`);
      }

      if (!days.has(file.day)) days.set(file.day, await this.dayManifest(file.day).catch(asError));
      const day = days.get(file.day);
      const listed = day instanceof Error || !day ? undefined : day.files.find((f) => f.table === file.table);
      if (day instanceof Error) problems.push(`${what}: its day's manifest is unreadable: ${day.message}`);
      else if (!listed) problems.push(`${what}: not listed in ${archiveManifestKey(file.day)}`);
      else if (!sameFile(listed, file)) problems.push(`${what}: ${archiveManifestKey(file.day)} lists it differently`);
    }
    if (problems.length > 0) throw new ArchiveVerificationError(this.target.location, problems);
  }

  /** A day's manifest.json as stored, or null when the day has none. */
  async dayManifest(day: string): Promise<DayManifest | null> {
    const key = archiveManifestKey(day);
    const body = await this.target.get(key);
    if (!body) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      throw new ArchiveError(`${this.target.location}/${key} is not JSON: ${(e as Error).message}`);
    }
    if (!isDayManifest(parsed, day)) throw new ArchiveError(`${this.target.location}/${key} is not a ${ARCHIVE_FORMAT} manifest of ${day}`);
    return parsed;
  }

  private async exportPartition({ table, partition, day }: PartitionExport): Promise<ArchivedFile> {
    const started = Date.now();
    const key = archiveFileKey(day, table);
    const client = await this.connections.connect();
    let failure: Error | undefined;
    // A session ended by the server between statements (terminated, failover) is reported as an 'error' event,
    // which would crash the process with no listener; the next statement fails with it anyway.
    const lost = (e: Error): void => {
      failure ??= e;
    };
    client.on('error', lost);
    try {
      // One snapshot for the count, the columns and the rows, so they describe the same partition.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // A day's partition can take longer than the pool's statement timeout; the JSON of timestamptz and bytea depends on these settings.
      await client.query(`SET LOCAL statement_timeout = 0; SET LOCAL TimeZone = 'UTC'; SET LOCAL bytea_output = 'hex'`);
      const relation = await this.relationOf(client, partition);
      const [{ count }] = (await client.query<{ count: string }>(`SELECT count(*) AS count FROM ONLY "${partition}"`)).rows;
      const columns = (
        await client.query<ArchivedColumn>(
          `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
            WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
          [relation],
        )
      ).rows;

      // CSV with a quote and a delimiter that valid JSON never contains (control characters are escaped in JSON
      // strings) passes each line through unaltered, where the text format would double every backslash. Raw line
      // breaks can only be whitespace between tokens (of a `json` column's value): made spaces, so one row is one line.
      const copy = client.query(
        copyTo(
          `COPY (SELECT translate(row_to_json(t)::text, E'\\r\\n', '  ') FROM ONLY "${partition}" t) TO STDOUT ` +
            `WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`,
        ),
      );
      const lines = new LineCounter();
      const digest = new Digest();
      const streaming = pipeline(copy, lines, createGzip(), digest);
      // Committed once every row is read, not when the upload completes: the session would otherwise sit idle in
      // its transaction (and be ended by the pool's idle-in-transaction timeout) while S3 takes the last part.
      const read = streaming.then(() => client.query('COMMIT'));
      try {
        await Promise.all([read, this.target.put(key, digest, GZIP_CONTENT_TYPE)]);
      } catch (e) {
        digest.destroy(asError(e));
        await read.catch(() => undefined);
        throw e;
      }

      const expected = Number(count);
      if (lines.count !== expected || copy.rowCount !== expected) {
        throw new ArchiveError(`${partition}: ${lines.count} lines streamed (COPY reported ${copy.rowCount}) but count(*) is ${expected} in the same snapshot`);
      }
      return {
        table,
        partition,
        day,
        key,
        rows: expected,
        bytes: digest.bytes,
        sha256: digest.sha256(),
        columns,
        archivedAt: new Date().toISOString(),
        exportMs: Date.now() - started,
      };
    } catch (e) {
      failure = asError(e);
      throw e;
    } finally {
      client.off('error', lost);
      // A session that failed mid-COPY is in no state to be reused: the pool discards it.
      client.release(failure);
    }
  }

  /** The partition's oid; only an ordinary table (an attached or detached partition) can be archived. */
  private async relationOf(client: PoolClient, partition: string): Promise<number> {
    const { rows } = await client.query<{ oid: number; relkind: string }>(`SELECT oid::int8 AS oid, relkind FROM pg_class WHERE oid = to_regclass($1)`, [
      `"${partition}"`,
    ]);
    if (rows.length === 0) throw new ArchiveError(`Partition ${partition} does not exist`);
    if (rows[0].relkind !== 'r') throw new ArchiveError(`${partition} is not a partition or plain table (relkind ${rows[0].relkind})`);
    return Number(rows[0].oid);
  }

  private async writeDayManifest(day: string, files: ArchivedFile[]): Promise<string> {
    const key = archiveManifestKey(day);
    const previous = await this.dayManifest(day);
    const replaced = new Set(files.map((f) => f.table));
    const kept = (previous?.files ?? []).filter((f) => !replaced.has(f.table));
    const manifest: DayManifest = {
      format: ARCHIVE_FORMAT,
      day,
      updatedAt: new Date().toISOString(),
      files: [...kept, ...files].sort((a, b) => a.table.localeCompare(b.table)),
    };
    await this.target.put(key, Readable.from([Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)]), JSON_CONTENT_TYPE);
    return key;
  }

  /** Size, sha256 and line count of a stored file, or null when it is missing. */
  private async readBack(key: string): Promise<{ bytes: number; sha256: string; rows: number } | null> {
    const body = await this.target.get(key);
    if (!body) return null;
    const digest = new Digest();
    const lines = new LineCounter();
    await pipeline(body, digest, createGunzip(), lines, new Writable({ write: (_chunk, _encoding, done) => done() }));
    return { bytes: digest.bytes, sha256: digest.sha256(), rows: lines.count };
  }
}

function checkExports(exports: readonly PartitionExport[]): void {
  const seen = new Set<string>();
  for (const { table, partition, day } of exports) {
    if (!isArchiveIdentifier(table)) throw new ArchiveError(`Not a table name: ${JSON.stringify(table)}`);
    if (!isArchiveIdentifier(partition)) throw new ArchiveError(`Not a partition name: ${JSON.stringify(partition)}`);
    if (!isArchiveDay(day)) throw new ArchiveError(`Not a day (YYYY-MM-DD): ${JSON.stringify(day)}`);
    // One file per table and day: a second export of the same pair would overwrite the first.
    if (seen.has(`${table} ${day}`)) throw new ArchiveError(`${table} ${day} is listed twice`);
    seen.add(`${table} ${day}`);
  }
}

/** Errors from node's own modules (zlib, fs) are not `instanceof Error` in every realm (jest's sandbox): judged by shape. */
function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string')
    return Object.assign(new Error((e as Error).message), { cause: e });
  return new Error(String(e));
}

function sameFile(a: ArchivedFile, b: ArchivedFile): boolean {
  return a.key === b.key && a.partition === b.partition && a.rows === b.rows && a.bytes === b.bytes && a.sha256 === b.sha256;
}

function isDayManifest(value: unknown, day: string): value is DayManifest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<DayManifest>;
  return m.format === ARCHIVE_FORMAT && m.day === day && Array.isArray(m.files);
}

/** Counts line feeds passing through: one per row. */
class LineCounter extends Transform {
  count = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) this.count++;
    done(null, chunk);
  }
}

/** Hashes and measures the bytes passing through. */
class Digest extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private hex: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  sha256(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}
