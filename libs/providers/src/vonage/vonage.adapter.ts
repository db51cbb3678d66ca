import { createHash, createHmac } from 'node:crypto';
import type { MessageStatus } from '@hookhub/contracts';
import {
  constantTimeEqual,
  declaredMediaType,
  FORM_MEDIA_TYPE,
  formParams,
  isoTime,
  JSON_MEDIA_TYPE,
  jsonBody,
  optionalString,
  requiredString,
} from '../callback-support';
import { MalformedCallbackError } from '../provider-adapter';
import type { CredentialSpec, Credentials, DeliveryStatusItem, IngestRequest, ParsedCallback, ProviderAdapter, Verification } from '../provider-adapter';

/** The dashboard's "signature method" choices; `md5hash` is the legacy keyed digest, the others are HMACs. */
export const VONAGE_SIGNATURE_METHODS = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

export const VONAGE_CREDENTIALS: CredentialSpec = {
  signature_secret: {
    required: true,
    secret: true,
    description: 'Signature secret of the Vonage API key (dashboard, API settings); signed delivery receipts must be enabled.',
  },
  signature_method: {
    required: true,
    secret: false,
    description: 'Signature method configured for the API key in the Vonage dashboard.',
    choices: VONAGE_SIGNATURE_METHODS,
  },
};

/** Receipts signed further than this from our clock are refused as replays. */
export const VONAGE_TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * `accepted` means a downstream carrier took the message but no handset has
 * confirmed it yet, hence `sent`; `buffered` waits for a retry, hence `queued`.
 */
const STATUSES = new Map<string, MessageStatus>([
  ['accepted', 'sent'],
  ['buffered', 'queued'],
  ['delivered', 'delivered'],
  ['expired', 'expired'],
  ['failed', 'failed'],
  ['rejected', 'rejected'],
  ['unknown', 'unknown'],
]);

const HMAC_ALGORITHMS: Readonly<Record<Exclude<VonageSignatureMethod, 'md5hash'>, string>> = {
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha512: 'sha512',
};

type ReceiptParams = ReadonlyMap<string, string>;

/** Vonage SMS API delivery receipts (DLRs), sent as GET, form POST or JSON POST. */
export class VonageAdapter implements ProviderAdapter {
  readonly provider = 'vonage' as const;
  readonly credentials = VONAGE_CREDENTIALS;
  readonly acceptsGet = true;

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const secret = credentials.signature_secret;
    const method = credentials.signature_method;
    if (!secret) return { ok: false, reason: 'signature_secret not configured' };
    if (!isSignatureMethod(method)) return { ok: false, reason: 'unsupported signature_method' };

    let params: ReceiptParams;
    try {
      params = receiptParams(req);
    } catch (error) {
      if (error instanceof MalformedCallbackError) return { ok: false, reason: error.message };
      throw error;
    }
    const sig = params.get('sig');
    if (!sig) return { ok: false, reason: 'missing sig' };
    const timestampProblem = checkTimestamp(params.get('timestamp'), req.receivedAt);
    if (timestampProblem) return { ok: false, reason: timestampProblem };

    // Digests are hex; Vonage's own check ignores case (HMAC variants may come upper-case).
    const expected = vonageSignature(params, secret, method);
    return constantTimeEqual(sig.toLowerCase(), expected) ? { ok: true } : { ok: false, reason: 'signature mismatch' };
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    const params = receiptParams(req);
    const messageId = requiredString(params.get('messageId'), 'messageId');
    const rawStatus = requiredString(params.get('status'), 'status');
    const errCode = optionalString(params.get('err-code'));
    const item: DeliveryStatusItem = {
      kind: 'delivery_status',
      providerEventId: `${messageId}:${rawStatus}`,
      providerMessageId: messageId,
      channel: 'sms',
      status: STATUSES.get(rawStatus.toLowerCase()) ?? 'unknown',
      rawStatus,
      errorCode: errCode === null || /^0+$/.test(errCode) ? null : errCode,
      errorMessage: null,
      occurredAt: occurredAt(params, req.receivedAt),
      // In a receipt `msisdn` is the handset the message went to; `to` is our own sender id.
      recipient: optionalString(params.get('msisdn')),
    };
    return { items: [item], actions: [] };
  }
}

/**
 * Vonage's signature over a receipt, as @vonage/sms verifySignature computes
 * it: every parameter but `sig`, sorted by name, as `&name=value` with `&` and
 * `=` in values replaced by `_`; md5hash appends the secret and takes MD5, the
 * other methods are HMACs keyed with the secret. Lower-case hex.
 */
export function vonageSignature(params: ReceiptParams, secret: string, method: VonageSignatureMethod): string {
  let signed = '';
  for (const name of [...params.keys()].filter((key) => key !== 'sig').sort()) {
    signed += `&${name}=${(params.get(name) ?? '').replace(/[&=]/g, '_')}`;
  }
  if (method === 'md5hash')
    return createHash('md5')
      .update(signed + secret, 'utf8')
      .digest('hex');
  return createHmac(HMAC_ALGORITHMS[method], secret).update(signed, 'utf8').digest('hex');
}

function isSignatureMethod(value: string | undefined): value is VonageSignatureMethod {
  return (VONAGE_SIGNATURE_METHODS as readonly string[]).includes(value ?? '');
}

function checkTimestamp(value: string | undefined, receivedAt: Date): string | null {
  if (!value) return 'missing timestamp';
  if (!/^\d{1,12}$/.test(value)) return 'invalid timestamp';
  const skew = Math.abs(receivedAt.getTime() - Number(value) * 1000);
  return skew > VONAGE_TIMESTAMP_TOLERANCE_MS ? 'stale timestamp' : null;
}

/**
 * The receipt's parameters: the query of a GET, else the body read as what it
 * declares (Vonage's "POST" sends a form, "POST-JSON" JSON). The signature is
 * inside, so a body read as the wrong kind would be checked and stored as
 * something Vonage never sent.
 */
function receiptParams(req: IngestRequest): ReceiptParams {
  if (req.method === 'GET') return new Map(queryOf(req.url));
  if (declaredMediaType(req, [FORM_MEDIA_TYPE, JSON_MEDIA_TYPE]) === JSON_MEDIA_TYPE) return jsonParams(jsonBody(req.rawBody));
  return new Map(formParams(req.rawBody));
}

function queryOf(url: string): URLSearchParams {
  const queryStart = url.indexOf('?');
  return new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1).split('#')[0]);
}

function jsonParams(body: unknown): ReceiptParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MalformedCallbackError('body is not a JSON object');
  }
  const params = new Map<string, string>();
  for (const [name, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') throw new MalformedCallbackError(`${name} is not a scalar`);
    params.set(name, String(value));
  }
  return params;
}

/** `message-timestamp` is UTC as `YYYY-MM-DD HH:MM:SS`; `timestamp` is the same instant in Unix seconds. */
function occurredAt(params: ReceiptParams, receivedAt: Date): string {
  const messageTimestamp = params.get('message-timestamp');
  if (messageTimestamp && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$/.test(messageTimestamp)) {
    return isoTime(`${messageTimestamp.replace(' ', 'T')}Z`, receivedAt);
  }
  return isoTime(params.get('timestamp'), receivedAt);
}
