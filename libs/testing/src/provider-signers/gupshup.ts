import type { SignedRequest } from './signed-request';

/**
 * Gupshup signs nothing: the callback URL is registered with a custom header
 * and Gupshup sends it verbatim on every callback.
 */
export function gupshupRequest(url: string, body: unknown, header: { name: string; value: string }): SignedRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', [header.name.toLowerCase()]: header.value },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'),
  };
}

export interface GupshupMessageEventInput {
  /** enqueued | failed | sent | delivered | read | deleted */
  type: string;
  /** Gupshup's message id (what the send API returned). */
  gupshupId: string;
  /** WhatsApp's id (wamid); `payload.id` on receipts. */
  whatsappId: string;
  destination: string;
  /** Callback time in milliseconds. */
  timestamp: number;
  /** Event time in seconds (receipts only). */
  ts?: number;
  error?: { code: number; reason: string };
  /** Drop `gsId`, as Gupshup does for receipts more than a week after sending. */
  withoutGsId?: boolean;
}

/**
 * A v2 `message-event` shaped like Gupshup's documentation
 * (docs.gupshup.io/docs/message-events): `payload.id` is Gupshup's id for
 * `enqueued`/`failed` and the wamid for receipts, which carry Gupshup's id
 * in `gsId`.
 */
export function gupshupMessageEvent(input: GupshupMessageEventInput): Record<string, unknown> {
  const receipt = input.type === 'sent' || input.type === 'delivered' || input.type === 'read' || input.type === 'deleted';
  const payload: Record<string, unknown> = {
    id: receipt ? input.whatsappId : input.gupshupId,
    type: input.type,
    destination: input.destination,
    payload: innerPayload(input, receipt),
  };
  if (receipt && !input.withoutGsId) payload.gsId = input.gupshupId;
  return { app: 'DemoAPI', timestamp: input.timestamp, version: 2, type: 'message-event', payload };
}

function innerPayload(input: GupshupMessageEventInput, receipt: boolean): Record<string, unknown> {
  if (input.type === 'enqueued') return { whatsappMessageId: input.whatsappId, type: 'session' };
  if (input.type === 'failed') return { code: input.error?.code ?? 1002, reason: input.error?.reason ?? 'Number Does Not Exists On WhatsApp' };
  return receipt ? { ts: input.ts ?? Math.floor(input.timestamp / 1000) } : {};
}
