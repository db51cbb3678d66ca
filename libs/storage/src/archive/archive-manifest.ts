/**
 * What an archive holds: per UTC day a folder `<YYYY>/<MM>/<DD>/` with one gzipped NDJSON file per table
 * (`<table>.ndjson.gz`, one `row_to_json` object per line) and a `manifest.json` listing them.
 */
export const ARCHIVE_FORMAT = 'hookhub-archive/1';

/** A partition to archive: the partition relation, the table it belongs to, and the UTC day (`YYYY-MM-DD`) it holds. */
export interface PartitionExport {
  table: string;
  partition: string;
  day: string;
}

export interface ArchivedColumn {
  name: string;
  /** As PostgreSQL names it (`format_type`): `timestamp with time zone`, `character varying(64)`. */
  type: string;
}

/** One archived file, as listed in its day's manifest.json and in the manifest `archive()` returns. */
export interface ArchivedFile {
  table: string;
  partition: string;
  day: string;
  /** Relative to the archive's root: `2026/11/01/deliveries.ndjson.gz`. */
  key: string;
  /** Lines (rows) in the file, counted while streaming and equal to the partition's count(*) in the same snapshot. */
  rows: number;
  /** Size of the stored (compressed) file. */
  bytes: number;
  /** SHA-256 of the stored (compressed) file, hex: what `sha256sum` prints for it. */
  sha256: string;
  /** The partition's columns in order, as they were when it was archived. */
  columns: ArchivedColumn[];
  archivedAt: string;
  /** How long the export took, snapshot to stored file. */
  exportMs: number;
}

/** `<YYYY>/<MM>/<DD>/manifest.json`: every file archived for that day, one per table. */
export interface DayManifest {
  format: typeof ARCHIVE_FORMAT;
  day: string;
  updatedAt: string;
  files: ArchivedFile[];
}

/** What one `archive()` call wrote; `verify()` takes it back. */
export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  /** The target's location (`file:///…`, `s3://bucket/prefix`). */
  location: string;
  createdAt: string;
  files: ArchivedFile[];
  /** Keys of the day manifests written (one per day in `files`). */
  manifests: string[];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A `YYYY-MM-DD` that is a real calendar day. */
export function isArchiveDay(day: string): boolean {
  return DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day);
}

/** An unquoted lower-case SQL identifier: what the hub's tables and partitions are named, and safe as a file name. */
export function isArchiveIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** `2026/11/01`. */
export function archiveDayFolder(day: string): string {
  const m = DAY.exec(day);
  if (!m || !isArchiveDay(day)) throw new Error(`Not a day (YYYY-MM-DD): ${JSON.stringify(day)}`);
  return `${m[1]}/${m[2]}/${m[3]}`;
}

/** `2026/11/01/deliveries.ndjson.gz`. */
export function archiveFileKey(day: string, table: string): string {
  if (!isArchiveIdentifier(table)) throw new Error(`Not a table name: ${JSON.stringify(table)}`);
  return `${archiveDayFolder(day)}/${table}.ndjson.gz`;
}

/** `2026/11/01/manifest.json`. */
export function archiveManifestKey(day: string): string {
  return `${archiveDayFolder(day)}/manifest.json`;
}
