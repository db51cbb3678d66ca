import { createHash, createHmac } from 'node:crypto';
import type { MessageStatus } from '@hookhub/contracts';
import {
  constantTimeEqual,
  declaredMediaType,
  FORM_MEDIA_TYPE,
  formParams,
  JSON_MEDIA_TYPE,
  jsonBody,
  optionalString,
  requiredString,
} from '../callback-support';
import { MalformedCallbackError } from '../provider-adapter';
import type {
  CredentialSpec,
  Credentials,
  DeliveryStatusItem,
  IngestRequest,
  MessageChannel,
  ParsedCallback,
  ProviderAdapter,
  Verification,
} from '../provider-adapter';

export type TwilioProvider = 'twilio_sms' | 'twilio_whatsapp';

export const TWILIO_CREDENTIALS: CredentialSpec = {
  auth_token: {
    required: true,
    secret: true,
    description: 'Auth token of the Twilio account (or subaccount) that sends the messages; it signs X-Twilio-Signature.',
  },
};

/**
 * Twilio message statuses. `undelivered` (the carrier gave up) and `failed`
 * (Twilio could not send) are both final failures to the tenant; `canceled`
 * is a scheduled message withdrawn before sending, which is what `dropped`
 * means elsewhere (never sent, by decision rather than by error).
 */
const STATUSES = new Map<string, MessageStatus>([
  ['accepted', 'queued'],
  ['scheduled', 'queued'],
  ['queued', 'queued'],
  ['sending', 'sent'],
  ['sent', 'sent'],
  ['delivered', 'delivered'],
  ['read', 'read'],
  ['undelivered', 'failed'],
  ['failed', 'failed'],
  ['canceled', 'dropped'],
]);

const CHANNELS: Readonly<Record<TwilioProvider, MessageChannel>> = { twilio_sms: 'sms', twilio_whatsapp: 'whatsapp' };

type Fields = (name: string) => string | null;

/**
 * Twilio Programmable Messaging status callbacks (SMS and WhatsApp share the
 * format and the signature; only the channel differs).
 */
export class TwilioAdapter implements ProviderAdapter {
  readonly credentials = TWILIO_CREDENTIALS;
  private readonly channel: MessageChannel;

  constructor(readonly provider: TwilioProvider) {
    this.channel = CHANNELS[provider];
  }

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const authToken = credentials.auth_token;
    if (!authToken) return { ok: false, reason: 'auth_token not configured' };
    const signature = req.headers['x-twilio-signature'];
    if (!signature) return { ok: false, reason: 'missing X-Twilio-Signature' };

    const bodyHash = bodySha256Param(req.url);
    // JSON callbacks sign the URL alone; the body is bound to it by its hash in the query.
    if (bodyHash !== null && !constantTimeEqual(sha256Hex(req.rawBody), bodyHash)) {
      return { ok: false, reason: 'body hash mismatch' };
    }
    const params = bodyHash === null && req.method === 'POST' ? groupParams(formParams(req.rawBody)) : new Map<string, string[]>();
    const matches = urlVariants(req.url).some((url) => constantTimeEqual(signature, twilioSignature(authToken, url, params)));
    return matches ? { ok: true } : { ok: false, reason: 'signature mismatch' };
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    const field = callbackFields(req);
    const messageSid = requiredString(field('MessageSid') ?? field('SmsSid'), 'MessageSid');
    const rawStatus = requiredString(field('MessageStatus') ?? field('SmsStatus'), 'MessageStatus');
    const item: DeliveryStatusItem = {
      kind: 'delivery_status',
      providerEventId: `${messageSid}:${rawStatus}`,
      providerMessageId: messageSid,
      channel: this.channel,
      status: STATUSES.get(rawStatus.toLowerCase()) ?? 'unknown',
      rawStatus,
      errorCode: errorCode(field('ErrorCode')),
      errorMessage: field('ErrorMessage'),
      // RawDlrDoneDate is the carrier's YYMMDDhhmm in an unstated, carrier-dependent zone: not a usable instant.
      occurredAt: req.receivedAt.toISOString(),
      recipient: withoutChannelPrefix(field('To')),
    };
    return { items: [item], actions: [] };
  }
}

/**
 * The string Twilio signs: the URL it called followed by every POST parameter
 * sorted by name, as name+value with no separators; repeated parameters
 * contribute each distinct value in sorted order (as twilio-node does).
 */
export function twilioSignature(authToken: string, url: string, params: ReadonlyMap<string, readonly string[]>): string {
  let data = url;
  for (const name of [...params.keys()].sort()) {
    for (const value of [...new Set(params.get(name))].sort()) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function groupParams(params: URLSearchParams): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of params) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return grouped;
}

function queryParams(url: string): URLSearchParams {
  const queryStart = url.indexOf('?');
  return new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1).split('#')[0]);
}

function bodySha256Param(url: string): string | null {
  return queryParams(url).get('bodySHA256');
}

function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Twilio may sign the URL with or without the default port, depending on how
 * the webhook was configured; twilio-node accepts both, so do we.
 */
function urlVariants(url: string): string[] {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) return [url];
  const [, scheme, authority, rest] = match;
  const userInfoEnd = authority.lastIndexOf('@') + 1;
  const hostAndPort = authority.slice(userInfoEnd);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  const host = portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart);
  const prefix = scheme + authority.slice(0, userInfoEnd) + host;
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return [...new Set([url, prefix + rest, prefix + (portStart === -1 ? defaultPort : hostAndPort.slice(portStart)) + rest])];
}

/**
 * Status callbacks are forms; callbacks signed with `bodySHA256` carry the
 * same fields as a JSON object. The signature covered the body as one or the
 * other, so the declared type must say the same: a form signed as a form but
 * declared JSON is not what Twilio sends.
 */
function callbackFields(req: IngestRequest): Fields {
  if (bodySha256Param(req.url) !== null) {
    declaredMediaType(req, [JSON_MEDIA_TYPE]);
    const body = jsonBody(req.rawBody);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new MalformedCallbackError('body is not a JSON object');
    }
    const record = body as Record<string, unknown>;
    return (name) => (Object.hasOwn(record, name) ? optionalString(record[name]) : null);
  }
  if (req.method === 'POST') declaredMediaType(req, [FORM_MEDIA_TYPE]);
  const params = req.method === 'POST' ? formParams(req.rawBody) : queryParams(req.url);
  return (name) => optionalString(params.get(name));
}

/** Twilio and carriers report success as an absent or all-zero code. */
function errorCode(value: string | null): string | null {
  return value === null || /^0+$/.test(value) ? null : value;
}

function withoutChannelPrefix(address: string | null): string | null {
  return address === null ? null : address.replace(/^whatsapp:/i, '');
}
