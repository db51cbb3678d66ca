import { timingSafeEqual } from 'node:crypto';
import { MIMEType } from 'node:util';
import { MalformedCallbackError, UnsupportedMediaTypeError, type IngestRequest } from './provider-adapter';

export const JSON_MEDIA_TYPE = 'application/json';
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
export const MULTIPART_MEDIA_TYPE = 'multipart/form-data';
/** What SNS declares by default for its JSON messages. */
export const TEXT_MEDIA_TYPE = 'text/plain';

/** Bodies are decoded as UTF-8; US-ASCII is its subset, any other charset would be misread. */
const UTF8_CHARSETS: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii']);

/** A parsed JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The objects of a JSON array (anything else: none). */
export function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Comparing against itself keeps the time independent of the length mismatch too.
  if (x.length !== y.length) return timingSafeEqual(x, x) && false;
  return timingSafeEqual(x, y);
}

/** Reads an `application/x-www-form-urlencoded` body. */
export function formParams(rawBody: Buffer): URLSearchParams {
  return new URLSearchParams(rawBody.toString('utf8'));
}

/** Reads a JSON body; a body that is not JSON is a malformed callback. */
export function jsonBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new MalformedCallbackError('body is not valid JSON');
  }
}

/** A field the provider always sends; its absence makes the callback malformed. */
export function requiredString(value: unknown, name: string): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new MalformedCallbackError(`${name} is missing`);
}

export function optionalString(value: unknown): string | null {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** Converts a provider time (Unix seconds, milliseconds or a date string) to ISO 8601, falling back to `fallback`. */
export function isoTime(value: unknown, fallback: Date): string {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    const n = Number(value);
    const ms = n > 1e12 ? n : n * 1000;
    const d = new Date(ms);
    if (!Number.isNaN(d.getTime())) return d.toISOString();
  } else if (typeof value === 'string' && value.length > 0) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d.toISOString();
  }
  return fallback.toISOString();
}

/**
 * The declared Content-Type's essence (`type/subtype`, lower case) when it is
 * one of `accepted`, which the caller then parses the body as. A missing,
 * unparsable or other type, or a charset other than UTF-8 on a text type,
 * throws `UnsupportedMediaTypeError`: a body is read as what it declares, and
 * what it declares must be what the provider sends.
 */
export function declaredMediaType<T extends string>(req: IngestRequest, accepted: readonly T[]): T {
  const header = req.headers['content-type'];
  const expected = accepted.join(' or ');
  if (header === undefined || header.trim() === '') throw new UnsupportedMediaTypeError(`Content-Type is missing; expected ${expected}`);
  let mime: MIMEType;
  try {
    mime = new MIMEType(header);
  } catch {
    throw new UnsupportedMediaTypeError(`Content-Type is not a media type; expected ${expected}`);
  }
  const essence = accepted.find((type) => type === mime.essence);
  if (essence === undefined) throw new UnsupportedMediaTypeError(`Content-Type ${mime.essence} is not what this provider sends here; expected ${expected}`);
  const charset = mime.params.get('charset');
  if (essence !== MULTIPART_MEDIA_TYPE && charset !== null && !UTF8_CHARSETS.has(charset.toLowerCase())) {
    throw new UnsupportedMediaTypeError(`charset ${charset} is not supported; the provider sends UTF-8`);
  }
  return essence;
}
