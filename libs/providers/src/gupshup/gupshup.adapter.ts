import type { MessageStatus } from '@hookhub/contracts';
import {
  constantTimeEqual,
  declaredMediaType,
  isObject,
  isoTime,
  JSON_MEDIA_TYPE,
  jsonBody,
  type JsonObject,
  optionalString,
  requiredString,
} from '../callback-support';
import { MalformedCallbackError } from '../provider-adapter';
import type { CredentialSpec, Credentials, DeliveryStatusItem, IngestRequest, ParsedCallback, ProviderAdapter, Verification } from '../provider-adapter';

const STATUS_MAP: Readonly<Record<string, MessageStatus>> = {
  enqueued: 'queued',
  failed: 'failed',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
};

function objectField(parent: JsonObject, key: string, name: string): JsonObject {
  const value = parent[key];
  if (!isObject(value)) throw new MalformedCallbackError(`${name} is missing`);
  return value;
}

/**
 * Gupshup's own message id, the one its send API returned. For `enqueued` and
 * `failed` it is `payload.id`; for the receipts `sent`, `delivered` and `read`
 * `payload.id` is the WhatsApp id (wamid) and Gupshup's id moves to `gsId`.
 * `gsId` is absent on receipts arriving more than a week after sending; those
 * fall back to the wamid.
 */
function gupshupMessageId(payload: JsonObject): string {
  return optionalString(payload.gsId) ?? requiredString(payload.id, 'payload.id');
}

/**
 * `payload.payload.ts` (seconds; receipts only) is when WhatsApp saw the
 * event; the outer `timestamp` (ms) is when Gupshup built the callback.
 */
function eventTime(ts: unknown, timestamp: unknown, receivedAt: Date): string {
  return isoTime(ts, new Date(isoTime(timestamp, receivedAt)));
}

function messageEventItem(body: JsonObject, receivedAt: Date): DeliveryStatusItem {
  const payload = objectField(body, 'payload', 'payload');
  const id = requiredString(payload.id, 'payload.id');
  const rawStatus = requiredString(payload.type, 'payload.type');
  const detail = isObject(payload.payload) ? payload.payload : {};
  const timestamp = optionalString(body.timestamp);
  const failed = rawStatus === 'failed';
  return {
    kind: 'delivery_status',
    providerEventId: `${id}:${rawStatus}:${timestamp ?? ''}`,
    providerMessageId: gupshupMessageId(payload),
    channel: 'whatsapp',
    // `deleted` (the user deleted the message) has no normalised equivalent.
    status: STATUS_MAP[rawStatus] ?? 'unknown',
    rawStatus,
    errorCode: failed ? optionalString(detail.code) : null,
    errorMessage: failed ? optionalString(detail.reason) : null,
    occurredAt: eventTime(detail.ts, body.timestamp, receivedAt),
    recipient: optionalString(payload.destination),
  };
}

/**
 * Gupshup WhatsApp callbacks are unsigned: the callback URL is registered
 * with a static header (e.g. `Authorization: Bearer …`) which is all that
 * proves the sender.
 */
export class GupshupAdapter implements ProviderAdapter {
  readonly provider = 'gupshup' as const;
  readonly credentials: CredentialSpec = {
    header_name: {
      required: true,
      secret: false,
      description: 'Name of the custom header configured on the Gupshup callback URL, e.g. "authorization".',
    },
    header_value: {
      required: true,
      secret: true,
      description: 'Exact value Gupshup sends in that header, e.g. "Bearer <random token>".',
    },
  };

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const name = credentials.header_name?.trim().toLowerCase();
    const expected = credentials.header_value;
    if (!name || !expected) return { ok: false, reason: 'header credentials are not configured' };
    const actual = req.headers[name];
    if (actual === undefined || actual === '') return { ok: false, reason: `missing ${name} header` };
    return constantTimeEqual(actual, expected) ? { ok: true } : { ok: false, reason: `${name} header does not match` };
  }

  /** Only `message-event`s are delivery reports; inbound `message`, `user-event` and `billing-event` yield no items. */
  async parse(req: IngestRequest): Promise<ParsedCallback> {
    declaredMediaType(req, [JSON_MEDIA_TYPE]);
    const body = jsonBody(req.rawBody);
    if (!isObject(body)) throw new MalformedCallbackError('body is not a JSON object');
    const type = requiredString(body.type, 'type');
    if (type !== 'message-event') return { items: [], actions: [] };
    return { items: [messageEventItem(body, req.receivedAt)], actions: [] };
  }
}
