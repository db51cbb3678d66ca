import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { MessageStatus } from '@hookhub/contracts';
import { declaredMediaType, isoTime, JSON_MEDIA_TYPE, jsonBody, optionalString } from '../callback-support';
import { MalformedCallbackError } from '../provider-adapter';
import type { CredentialSpec, Credentials, DeliveryStatusItem, IngestRequest, ParsedCallback, ProviderAdapter, Verification } from '../provider-adapter';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';
/** SendGrid documents no window; 10 minutes absorbs clock skew and its quick retries while bounding replays. */
export const SENDGRID_TIMESTAMP_TOLERANCE_MS = 10 * 60 * 1000;
/**
 * SendGrid posts a batch every 30 seconds or when it reaches 768 KB, so a
 * post holds as many events as fit (thousands of small ones). There is no
 * event count to enforce: the body size is bounded by INGEST_BODY_LIMIT.
 */
export const SENDGRID_MAX_BATCH_BYTES = 768 * 1024;

export const SENDGRID_CREDENTIALS: CredentialSpec = {
  public_key: {
    required: true,
    secret: false,
    description: 'Verification key of the Signed Event Webhook (Mail Settings → Event Webhook), base64 SPKI ECDSA P-256 as SendGrid shows it.',
  },
};

/**
 * Checks SendGrid's ECDSA signature: P-256/SHA-256 over the timestamp header
 * followed by the raw body bytes, DER signature in base64. Inbound Parse
 * security policies sign the same way with the same headers.
 */
export function verifySendgridSignature(req: IngestRequest, publicKey: string): Verification {
  const signature = req.headers[SENDGRID_SIGNATURE_HEADER];
  const timestamp = req.headers[SENDGRID_TIMESTAMP_HEADER];
  if (!signature) return fail('signature header is missing');
  if (!timestamp) return fail('timestamp header is missing');
  if (!/^\d{1,12}$/.test(timestamp)) return fail('timestamp header is not a Unix time');
  if (Math.abs(req.receivedAt.getTime() - Number(timestamp) * 1000) > SENDGRID_TIMESTAMP_TOLERANCE_MS) {
    return fail('timestamp is outside the 10 minute window');
  }
  const key = ecPublicKey(publicKey);
  if (!key) return fail('public key is not a base64 SPKI P-256 key');
  // Bytes, not a decoded string: Inbound Parse bodies carry binary attachments.
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), req.rawBody]);
  let valid: boolean;
  try {
    valid = verifySignature('sha256', signed, key, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : fail('signature does not match');
}

/** Accepts the key as SendGrid shows it (bare base64 DER) and, leniently, as PEM. */
function ecPublicKey(value: string): KeyObject | null {
  try {
    const key = value.includes('-----BEGIN')
      ? createPublicKey(value)
      : createPublicKey({ key: Buffer.from(value.trim(), 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? key : null;
  } catch {
    return null;
  }
}

const STATUS_BY_EVENT: Readonly<Record<string, MessageStatus>> = {
  // Accepted by SendGrid, not yet handed to the receiving server.
  processed: 'queued',
  delivered: 'delivered',
  deferred: 'deferred',
  // `type: "blocked"` bounces are still bounces: the receiver refused the message.
  bounce: 'bounced',
  dropped: 'dropped',
  open: 'opened',
  click: 'clicked',
  spamreport: 'complained',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
};

/** Statuses whose SMTP status and reason describe an error; a delivery's "250 OK" is not one. */
const ERROR_STATUSES: ReadonlySet<MessageStatus> = new Set(['bounced', 'deferred', 'dropped']);

export function sendgridStatus(event: string | null): MessageStatus {
  return event !== null && Object.hasOwn(STATUS_BY_EVENT, event) ? STATUS_BY_EVENT[event] : 'unknown';
}

/**
 * The id to match against what the send returned. `sg_message_id` is the
 * X-Message-Id of the send followed by SendGrid's internal routing suffix
 * (`<X-Message-Id>.filterdrecv-…` or `.recvd-…`); the X-Message-Id itself
 * never contains a dot, so everything from the first dot is dropped. Async
 * bounces may lack `sg_message_id`; their `smtp-id` is
 * `<X-Message-Id@host>` unless the sender set its own Message-ID.
 */
export function sendgridMessageId(event: Readonly<Record<string, unknown>>): string | null {
  const sgMessageId = optionalString(event['sg_message_id']);
  if (sgMessageId) return sgMessageId.split('.')[0] || null;
  const smtpId = optionalString(event['smtp-id']);
  if (smtpId) return smtpId.replace(/^<|>$/g, '').split('@')[0] || null;
  return null;
}

function toItem(event: Readonly<Record<string, unknown>>, receivedAt: Date): DeliveryStatusItem | null {
  const messageId = sendgridMessageId(event);
  // Account events (e.g. account_status_change) concern no message; dropping them keeps the rest of the batch.
  if (!messageId) return null;
  const rawStatus = optionalString(event['event']);
  const status = sendgridStatus(rawStatus);
  const occurredAt = isoTime(event['timestamp'], receivedAt);
  const isError = ERROR_STATUSES.has(status);
  return {
    kind: 'delivery_status',
    providerEventId: optionalString(event['sg_event_id']) ?? `${messageId}:${rawStatus ?? 'unknown'}:${occurredAt}`,
    providerMessageId: messageId,
    channel: 'email',
    status,
    rawStatus,
    errorCode: isError ? optionalString(event['status']) : null,
    errorMessage: isError ? (optionalString(event['reason']) ?? optionalString(event['response'])) : null,
    occurredAt,
    recipient: optionalString(event['email']),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string): Verification {
  return { ok: false, reason };
}

/** SendGrid Event Webhook: signed JSON arrays of delivery and engagement events. */
export class SendgridAdapter implements ProviderAdapter {
  readonly provider = 'sendgrid' as const;
  readonly credentials: CredentialSpec = SENDGRID_CREDENTIALS;

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const publicKey = credentials['public_key'];
    if (!publicKey) return fail('connection has no public key');
    return verifySendgridSignature(req, publicKey);
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    declaredMediaType(req, [JSON_MEDIA_TYPE]);
    const body = jsonBody(req.rawBody);
    if (!Array.isArray(body)) throw new MalformedCallbackError('body is not a JSON array of events');
    const items: DeliveryStatusItem[] = [];
    for (const event of body) {
      if (!isRecord(event)) throw new MalformedCallbackError('event is not a JSON object');
      const item = toItem(event, req.receivedAt);
      if (item) items.push(item);
    }
    return { items, actions: [] };
  }
}
