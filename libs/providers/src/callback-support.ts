import { timingSafeEqual } from 'node:crypto';
import { MalformedCallbackError } from './provider-adapter';

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
