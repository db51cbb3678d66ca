import type { Readable } from 'node:stream';

/**
 * Where archives are kept. Keys are relative and '/'-separated (`2026/11/01/deliveries.ndjson.gz`);
 * each target maps them under its own root (a directory, or a bucket and prefix).
 */
export interface ArchiveTarget {
  /** Where the archive's root is, for logs and manifests: `file:///var/lib/hookhub-archive`, `s3://bucket/prefix`. */
  readonly location: string;

  /**
   * Stores `body` under `key`, replacing what was there. Resolves only once the whole object is in place
   * under its final name; a failed write leaves no partial object under `key` (an earlier one stays).
   */
  put(key: string, body: Readable, contentType: string): Promise<void>;

  /** The stored bytes of `key`, or null when there is no such object. */
  get(key: string): Promise<Readable | null>;

  /** Releases connections (the S3 client's sockets); the target is not used afterwards. */
  close(): Promise<void>;
}

export const GZIP_CONTENT_TYPE = 'application/gzip';
export const JSON_CONTENT_TYPE = 'application/json';

// Segments never start with a dot: no `..`, and the directory target's temporary files (`.name.*.tmp`) stay out of the key space.
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** The key itself, or a thrown error for one that could escape the target's root or collide with temporary files. */
export function checkedArchiveKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`Not an archive key: ${JSON.stringify(key)}`);
  return key;
}
