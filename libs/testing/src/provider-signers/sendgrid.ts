import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { SignedRequest } from './signed-request';

export interface SendgridKeyPair {
  privateKey: KeyObject;
  /** Base64 DER SPKI, the form SendGrid shows as the verification key. */
  publicKey: string;
}

/** A key pair like the one SendGrid generates when signing is enabled (ECDSA P-256). */
export function sendgridKeyPair(): SendgridKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') };
}

/** SendGrid's signature: ECDSA SHA-256 over timestamp + raw body, DER, base64. */
export function sendgridSignature(body: Buffer, timestamp: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), privateKey).toString('base64');
}

/** The two headers SendGrid adds to signed Event Webhook and Inbound Parse posts. */
export function sendgridSignatureHeaders(body: Buffer, privateKey: KeyObject, timestamp?: number): Record<string, string> {
  const ts = String(timestamp ?? Math.floor(Date.now() / 1000));
  return {
    'x-twilio-email-event-webhook-signature': sendgridSignature(body, ts, privateKey),
    'x-twilio-email-event-webhook-timestamp': ts,
  };
}

export interface SendgridEventsOptions {
  url: string;
  privateKey: KeyObject;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** An Event Webhook post: a JSON array followed by CRLF, as SendGrid sends it. */
export function signedSendgridEvents(events: readonly Readonly<Record<string, unknown>>[], options: SendgridEventsOptions): SignedRequest {
  const body = Buffer.from(`${JSON.stringify(events)}\r\n`, 'utf8');
  return {
    method: 'POST',
    url: options.url,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'SendGrid Event API',
      ...sendgridSignatureHeaders(body, options.privateKey, options.timestamp),
    },
    body,
  };
}

/** A realistic event of the given type for one message (`timestamp` in Unix seconds). */
export function sendgridEvent(event: string, overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    email: 'customer@customer.example',
    timestamp: 1741079700,
    'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
    event,
    category: ['ticket-reply'],
    sg_event_id: `${event}-ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA`,
    sg_message_id: 'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0',
    ...overrides,
  };
}
