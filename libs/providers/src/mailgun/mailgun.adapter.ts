import { createHmac } from 'node:crypto';
import type { MessageStatus } from '@hookhub/contracts';
import {
  constantTimeEqual,
  declaredMediaType,
  FORM_MEDIA_TYPE,
  isoTime,
  JSON_MEDIA_TYPE,
  jsonBody,
  MULTIPART_MEDIA_TYPE,
  optionalString,
  requiredString,
} from '../callback-support';
import { headerBlockFromPairs, inboundEmailFromFields, inboundEmailFromMime } from '../email/inbound-email';
import { parseFormBody, type FormBody } from '../email/multipart';
import { MalformedCallbackError, UnsupportedMediaTypeError } from '../provider-adapter';
import type {
  AttachmentInfo,
  CredentialSpec,
  Credentials,
  DeliveryStatusItem,
  InboundEmailItem,
  IngestRequest,
  ParsedCallback,
  ProviderAdapter,
  Verification,
} from '../provider-adapter';

/** Mailgun documents no window; 10 minutes bounds replays of a captured post while tolerating clock skew. */
export const MAILGUN_TIMESTAMP_TOLERANCE_MS = 10 * 60 * 1000;

export const MAILGUN_CREDENTIALS: CredentialSpec = {
  signing_key: {
    required: true,
    secret: true,
    description: 'HTTP webhook signing key (Sending → Webhooks → HTTP webhook signing key); signs event webhooks and Routes posts.',
  },
};

interface MailgunSignature {
  timestamp: string;
  token: string;
  signature: string;
}

type Body = { kind: 'event'; json: Record<string, unknown> } | { kind: 'form'; form: FormBody };

/** Mailgun signs event webhooks and Routes posts alike: hex HMAC-SHA256(signing key, timestamp + token). */
export function mailgunSignatureMatches(signingKey: string, sig: MailgunSignature): boolean {
  const expected = createHmac('sha256', signingKey)
    .update(sig.timestamp + sig.token)
    .digest('hex');
  return constantTimeEqual(expected, sig.signature.toLowerCase());
}

// ---- event webhooks (JSON) ----

const STATUS_BY_EVENT: Readonly<Record<string, MessageStatus>> = {
  accepted: 'queued',
  rejected: 'rejected',
  delivered: 'delivered',
  opened: 'opened',
  clicked: 'clicked',
  complained: 'complained',
  unsubscribed: 'unsubscribed',
};

/**
 * `failed` splits on severity. Permanent failures caused by Mailgun's own
 * suppression lists (`reason: suppress-bounce|suppress-complaint|suppress-unsubscribe`)
 * never reached a receiving server, so they are drops, like SendGrid's `dropped`.
 */
export function mailgunStatus(event: string, data: Readonly<Record<string, unknown>>): MessageStatus {
  if (event === 'failed') {
    const severity = optionalString(data['severity']);
    if (severity === 'temporary') return 'deferred';
    if (severity === 'permanent') return optionalString(data['reason'])?.startsWith('suppress-') ? 'dropped' : 'bounced';
    return 'failed';
  }
  return Object.hasOwn(STATUS_BY_EVENT, event) ? STATUS_BY_EVENT[event] : 'unknown';
}

const ERROR_STATUSES: ReadonlySet<MessageStatus> = new Set(['bounced', 'deferred', 'dropped', 'failed', 'rejected']);

function eventItem(body: Readonly<Record<string, unknown>>, receivedAt: Date): DeliveryStatusItem {
  const data = record(body['event-data']);
  if (!data) throw new MalformedCallbackError('event-data is missing');
  const event = requiredString(data['event'], 'event-data.event');
  const headers = record(record(data['message'])?.['headers']);
  const status = mailgunStatus(event, data);
  const delivery = record(data['delivery-status']);
  const reject = record(data['reject']);
  const isError = ERROR_STATUSES.has(status);
  return {
    kind: 'delivery_status',
    providerEventId: requiredString(data['id'], 'event-data.id'),
    // Mailgun reports the Message-Id without angle brackets; the send API returns it with them.
    providerMessageId: requiredString(headers?.['message-id'], 'event-data.message.headers.message-id').replace(/^<|>$/g, ''),
    channel: 'email',
    status,
    rawStatus: event,
    errorCode: isError ? optionalString(delivery?.['code']) : null,
    errorMessage: isError ? errorMessage(delivery, reject) : null,
    occurredAt: isoTime(data['timestamp'], receivedAt),
    recipient: optionalString(data['recipient']),
  };
}

function errorMessage(delivery: Readonly<Record<string, unknown>> | null, reject: Readonly<Record<string, unknown>> | null): string | null {
  return (
    optionalString(delivery?.['message']) ??
    optionalString(delivery?.['description']) ??
    optionalString(reject?.['description']) ??
    optionalString(reject?.['reason'])
  );
}

// ---- inbound Routes (form posts) ----

/** Message headers Mailgun also posts as top-level fields; used when `message-headers` is absent. */
const HEADER_FIELDS = ['Message-Id', 'In-Reply-To', 'References', 'Date', 'From', 'To', 'Cc', 'Subject'];

async function inboundItem(form: FormBody, receivedAt: Date): Promise<InboundEmailItem> {
  const { fields } = form;
  const mime = fields.get('body-mime');
  // Routes forwarding to a URL ending in "mime" post the message untouched.
  if (mime !== undefined) return inboundEmailFromMime(Buffer.from(mime, 'utf8'), receivedAt);
  // Legacy (pre-2018) event webhooks are form posts too, with `event` and `message-headers` but no body.
  if (fields.has('event') && !fields.has('body-plain')) {
    throw new MalformedCallbackError('legacy form-encoded event webhooks are not supported; use the JSON webhooks');
  }
  if (!fields.has('body-plain') && !fields.has('message-headers') && !fields.has('from')) {
    throw new MalformedCallbackError('form is not a Mailgun inbound message');
  }
  return inboundEmailFromFields(
    {
      headers: headerBlock(fields),
      from: optionalString(fields.get('from')),
      to: optionalString(fields.get('To')) ?? optionalString(fields.get('recipient')),
      cc: optionalString(fields.get('Cc')),
      subject: optionalString(fields.get('subject')),
      text: optionalString(fields.get('body-plain')),
      html: optionalString(fields.get('body-html')),
      attachments: attachments(form),
    },
    receivedAt,
  );
}

function headerBlock(fields: ReadonlyMap<string, string>): string {
  const json = fields.get('message-headers');
  if (json !== undefined) {
    let pairs: unknown;
    try {
      pairs = JSON.parse(json);
    } catch {
      throw new MalformedCallbackError('message-headers is not valid JSON');
    }
    const block = headerBlockFromPairs(pairs);
    if (block.length > 0) return block;
  }
  // Header fields keep the sender's spelling (Message-Id, Message-ID), so match names case-insensitively.
  const byName = new Map<string, [string, string]>();
  for (const [name, value] of fields) byName.set(name.toLowerCase(), [name, value]);
  const pairs = HEADER_FIELDS.map((name) => byName.get(name.toLowerCase())).filter((pair) => pair !== undefined);
  return headerBlockFromPairs(pairs);
}

/**
 * Forwarded posts carry the files (`attachment-1` …); store-and-notify posts
 * carry an `attachments` JSON list of stored files with their sizes instead.
 */
function attachments(form: FormBody): AttachmentInfo[] {
  const files = form.files.filter((f) => /^attachment-\d+$/.test(f.fieldName)).map((f) => ({ filename: f.filename, contentType: f.contentType, size: f.size }));
  if (files.length > 0) return files;
  const stored = form.fields.get('attachments');
  if (stored === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(stored);
  } catch {
    throw new MalformedCallbackError('attachments is not valid JSON');
  }
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry) => {
    const a = record(entry);
    if (!a) return [];
    const size = Number(a['size']);
    return [
      {
        filename: optionalString(a['name']),
        contentType: optionalString(a['content-type']) ?? 'application/octet-stream',
        size: Number.isFinite(size) ? size : 0,
      },
    ];
  });
}

// ---- shared ----

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function fail(reason: string): Verification {
  return { ok: false, reason };
}

/** Mailgun: JSON event webhooks and inbound Routes form posts, told apart by content type. */
export class MailgunAdapter implements ProviderAdapter {
  readonly provider = 'mailgun' as const;
  readonly credentials: CredentialSpec = MAILGUN_CREDENTIALS;
  /** verify and parse both need the body; a large multipart body is read once per request. */
  private readonly bodies = new WeakMap<Buffer, { contentType: string | undefined; body: Promise<Body> }>();

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const signingKey = credentials['signing_key'];
    if (!signingKey) return fail('connection has no signing key');
    let sig: MailgunSignature | null;
    try {
      sig = signatureOf(await this.body(req));
    } catch (err) {
      // The signature is inside the body: a body that cannot be read as what it declares carries none.
      return fail(err instanceof UnsupportedMediaTypeError ? err.message : 'body carries no readable signature');
    }
    if (!sig) return fail('signature fields are missing');
    if (!/^\d{1,12}$/.test(sig.timestamp)) return fail('timestamp is not a Unix time');
    if (Math.abs(req.receivedAt.getTime() - Number(sig.timestamp) * 1000) > MAILGUN_TIMESTAMP_TOLERANCE_MS) {
      return fail('timestamp is outside the 10 minute window');
    }
    return mailgunSignatureMatches(signingKey, sig) ? { ok: true } : fail('signature does not match');
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    const body = await this.body(req);
    const item = body.kind === 'event' ? eventItem(body.json, req.receivedAt) : await inboundItem(body.form, req.receivedAt);
    return { items: [item], actions: [] };
  }

  private body(req: IngestRequest): Promise<Body> {
    // The same bytes declared as another type are another body.
    const contentType = req.headers['content-type'];
    const cached = this.bodies.get(req.rawBody);
    if (cached && cached.contentType === contentType) return cached.body;
    const body = readBody(req);
    this.bodies.set(req.rawBody, { contentType, body });
    return body;
  }
}

/** JSON events, or a Routes form (URL-encoded, multipart with attachments), told apart by the declared type only. */
async function readBody(req: IngestRequest): Promise<Body> {
  const contentType = req.headers['content-type'];
  if (declaredMediaType(req, [JSON_MEDIA_TYPE, FORM_MEDIA_TYPE, MULTIPART_MEDIA_TYPE]) === JSON_MEDIA_TYPE) {
    const json = record(jsonBody(req.rawBody));
    if (!json) throw new MalformedCallbackError('body is not a JSON object');
    return { kind: 'event', json };
  }
  return { kind: 'form', form: await parseFormBody(req.rawBody, contentType) };
}

function signatureOf(body: Body): MailgunSignature | null {
  const get =
    body.kind === 'event'
      ? (name: string) => optionalString(record(body.json['signature'])?.[name])
      : (name: string) => optionalString(body.form.fields.get(name));
  const timestamp = get('timestamp');
  const token = get('token');
  const signature = get('signature');
  return timestamp && token && signature ? { timestamp, token, signature } : null;
}
