import { createHash } from 'node:crypto';

/**
 * A UUID derived from what identifies an event at its source, so that the same
 * provider report always becomes the same hub event, however often it arrives
 * (JetStream de-duplicates it by id, the event log stores it once).
 */
export function derivedId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  // Shaped as an RFC 9562 version 8 (custom) UUID.
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
