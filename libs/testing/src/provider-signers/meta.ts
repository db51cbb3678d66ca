import { createHmac } from 'node:crypto';
import type { SignedRequest } from './signed-request';

/**
 * Serialises like Meta's Graph API does: `/` as `\/` and every non-ASCII
 * character as `\uXXXX` (surrogate pairs for astral characters). Both only
 * occur inside JSON strings, so rewriting JSON.stringify's output is safe.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The `X-Hub-Signature-256` value Meta sends for `body`. */
export function metaSignature(body: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/** A webhook POST exactly as Meta sends it; `body` is sent byte for byte. */
export function metaWebhookRequest(url: string, body: Buffer | string, appSecret: string): SignedRequest {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'facebookexternalua',
      'x-hub-signature-256': metaSignature(bytes, appSecret),
    },
    body: bytes,
  };
}

/** The GET Meta sends when the webhook URL is saved in the app dashboard. */
export function metaHandshakeRequest(url: string, params: { verifyToken: string; challenge: string; mode?: string }): SignedRequest {
  const target = new URL(url);
  target.searchParams.set('hub.mode', params.mode ?? 'subscribe');
  target.searchParams.set('hub.challenge', params.challenge);
  target.searchParams.set('hub.verify_token', params.verifyToken);
  return { method: 'GET', url: target.toString(), headers: {}, body: Buffer.alloc(0) };
}

export interface MetaStatus {
  id: string;
  status: string;
  timestamp: string;
  recipient_id: string;
  errors?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** A `messages`-field webhook carrying delivery statuses, shaped like Meta's samples. */
export function metaStatusPayload(statuses: MetaStatus[], phoneNumberId = '106540352242922'): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              statuses,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}
