import { createHmac } from 'node:crypto';
import type { MessageStatus } from '@hookhub/contracts';
import { PROBLEM_CONTENT_TYPE, problemDocument } from '@hookhub/platform';
import {
  constantTimeEqual,
  declaredMediaType,
  isObject,
  isoTime,
  JSON_MEDIA_TYPE,
  jsonBody,
  type JsonObject,
  objects,
  optionalString,
  requiredString,
} from '../callback-support';
import { MalformedCallbackError } from '../provider-adapter';
import type {
  CredentialSpec,
  Credentials,
  DeliveryStatusItem,
  IngestRequest,
  ParsedCallback,
  ProviderAdapter,
  ProviderReply,
  Verification,
} from '../provider-adapter';

const SIGNATURE_HEADER = 'x-hub-signature-256';
const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/i;

const STATUS_MAP: Readonly<Record<string, MessageStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
};

function forbidden(detail: string): ProviderReply {
  return { status: 403, contentType: PROBLEM_CONTENT_TYPE, body: JSON.stringify(problemDocument(403, detail)) };
}

function queryOf(url: string): URLSearchParams | null {
  try {
    return new URL(url).searchParams;
  } catch {
    return null;
  }
}

/** Meta gives up to several error shapes over API versions; the first non-empty text wins. */
function errorOf(status: JsonObject): { code: string | null; message: string | null } {
  const first = objects(status.errors)[0];
  if (!first) return { code: null, message: null };
  const data = isObject(first.error_data) ? first.error_data : {};
  return {
    code: optionalString(first.code),
    message: optionalString(first.title) ?? optionalString(first.message) ?? optionalString(data.details),
  };
}

function statusItem(status: JsonObject, receivedAt: Date): DeliveryStatusItem {
  const id = requiredString(status.id, 'statuses[].id');
  const rawStatus = requiredString(status.status, 'statuses[].status');
  const timestamp = optionalString(status.timestamp);
  const error = errorOf(status);
  return {
    kind: 'delivery_status',
    providerEventId: `${id}:${rawStatus}:${timestamp ?? ''}`,
    providerMessageId: id,
    channel: 'whatsapp',
    // `deleted` (the customer deleted our message) and future values have no normalised equivalent.
    status: STATUS_MAP[rawStatus] ?? 'unknown',
    rawStatus,
    errorCode: error.code,
    errorMessage: error.message,
    occurredAt: isoTime(timestamp, receivedAt),
    recipient: optionalString(status.recipient_id),
  };
}

/**
 * WhatsApp Cloud API (Meta Graph webhooks). Every POST is signed with the app
 * secret over the exact body bytes; Meta's serialiser escapes `/` and
 * non-ASCII characters, so re-serialising the parsed body would not verify.
 */
export class MetaWhatsappAdapter implements ProviderAdapter {
  readonly provider = 'meta_whatsapp' as const;
  readonly credentials: CredentialSpec = {
    app_secret: { required: true, secret: true, description: 'App secret of the Meta app (App settings → Basic); signs X-Hub-Signature-256.' },
    verify_token: {
      required: true,
      secret: true,
      description: 'Verify token entered in the WhatsApp webhook configuration; echoed back in the GET handshake.',
    },
  };

  handshake(req: IngestRequest, credentials: Credentials): ProviderReply {
    const query = req.method === 'GET' ? queryOf(req.url) : null;
    if (!query || query.get('hub.mode') !== 'subscribe') return forbidden('not a webhook verification request');
    const token = query.get('hub.verify_token');
    const expected = credentials.verify_token;
    if (!token || !expected || !constantTimeEqual(token, expected)) return forbidden('hub.verify_token does not match');
    const challenge = query.get('hub.challenge');
    if (!challenge) return forbidden('hub.challenge is missing');
    return { status: 200, contentType: 'text/plain', body: challenge };
  }

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const secret = credentials.app_secret;
    if (!secret) return { ok: false, reason: 'app_secret is not configured' };
    const header = req.headers[SIGNATURE_HEADER];
    if (!header) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
    const match = SIGNATURE_PATTERN.exec(header.trim());
    if (!match) return { ok: false, reason: 'malformed X-Hub-Signature-256 header' };
    const expected = createHmac('sha256', secret).update(req.rawBody).digest('hex');
    return constantTimeEqual(match[1].toLowerCase(), expected) ? { ok: true } : { ok: false, reason: 'signature mismatch' };
  }

  /**
   * Only `statuses[]` are delivery reports. Customer messages (`messages[]`)
   * in the same webhook field are not about our outgoing messages and yield
   * no items.
   */
  async parse(req: IngestRequest): Promise<ParsedCallback> {
    declaredMediaType(req, [JSON_MEDIA_TYPE]);
    const body = jsonBody(req.rawBody);
    if (!isObject(body) || body.object !== 'whatsapp_business_account') {
      throw new MalformedCallbackError('not a WhatsApp Business Account webhook');
    }
    if (!Array.isArray(body.entry)) throw new MalformedCallbackError('entry is missing');
    const items = objects(body.entry)
      .flatMap((entry) => objects(entry.changes))
      .flatMap((change) => (isObject(change.value) ? objects(change.value.statuses) : []))
      .map((status) => statusItem(status, req.receivedAt));
    return { items, actions: [] };
  }
}
