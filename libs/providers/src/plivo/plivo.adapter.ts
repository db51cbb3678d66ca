import { createHmac } from 'node:crypto';
import { parse as parseQueryString } from 'node:querystring';
import type { MessageStatus } from '@hookhub/contracts';
import { constantTimeEqual, declaredMediaType, FORM_MEDIA_TYPE, formParams, optionalString, requiredString } from '../callback-support';
import type { CredentialSpec, Credentials, DeliveryStatusItem, IngestRequest, ParsedCallback, ProviderAdapter, Verification } from '../provider-adapter';

export const PLIVO_CREDENTIALS: CredentialSpec = {
  auth_token: {
    required: true,
    secret: true,
    description: 'Auth token of the Plivo account that sends the messages; it signs X-Plivo-Signature-V3 (and V2).',
  },
};

/** `undelivered` (the carrier gave up) and `failed` (Plivo could not send) are both final failures. */
const STATUSES = new Map<string, MessageStatus>([
  ['queued', 'queued'],
  ['sent', 'sent'],
  ['delivered', 'delivered'],
  ['read', 'read'],
  ['undelivered', 'failed'],
  ['failed', 'failed'],
  ['rejected', 'rejected'],
]);

type ParamMap = ReadonlyMap<string, readonly string[]>;

/** Plivo message status callbacks (form POSTs, or GETs when the message asked for them). */
export class PlivoAdapter implements ProviderAdapter {
  readonly provider = 'plivo' as const;
  /** A message sent with `method=GET` gets its status callbacks as GET with the report in the query. */
  readonly acceptsGet = true;
  readonly credentials = PLIVO_CREDENTIALS;

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const authToken = credentials.auth_token;
    if (!authToken) return { ok: false, reason: 'auth_token not configured' };
    const v3 = signatureList(req, 'x-plivo-signature-v3', 'x-plivo-signature-ma-v3');
    if (v3.length > 0) return this.verifyV3(req, authToken, v3);
    const v2 = signatureList(req, 'x-plivo-signature-v2', 'x-plivo-signature-ma-v2');
    if (v2.length > 0) return this.verifyV2(req, authToken, v2);
    return { ok: false, reason: 'missing X-Plivo-Signature-V3' };
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    // V3 signed the body as form parameters; a body declared as anything else is not what Plivo sends.
    if (req.method === 'POST' && req.rawBody.length > 0) declaredMediaType(req, [FORM_MEDIA_TYPE]);
    const params = req.method === 'POST' ? formParams(req.rawBody) : new URLSearchParams(splitUrl(req.url).query);
    const messageUuid = requiredString(params.get('MessageUUID'), 'MessageUUID');
    const rawStatus = requiredString(params.get('Status'), 'Status');
    const item: DeliveryStatusItem = {
      kind: 'delivery_status',
      providerEventId: `${messageUuid}:${rawStatus}`,
      providerMessageId: messageUuid,
      channel: 'sms',
      status: STATUSES.get(rawStatus.toLowerCase()) ?? 'unknown',
      rawStatus,
      errorCode: errorCode(optionalString(params.get('ErrorCode'))),
      errorMessage: null,
      // Plivo's status callbacks carry no event time.
      occurredAt: req.receivedAt.toISOString(),
      recipient: optionalString(params.get('To')),
    };
    return { items: [item], actions: [] };
  }

  private verifyV3(req: IngestRequest, authToken: string, signatures: string[]): Verification {
    const nonce = req.headers['x-plivo-signature-v3-nonce'];
    if (!nonce) return { ok: false, reason: 'missing X-Plivo-Signature-V3-Nonce' };
    const postParams = req.method === 'POST' ? groupParams(formParams(req.rawBody)) : new Map<string, string[]>();
    const expected = hmacBase64(authToken, plivoV3SignedString(req.method, req.url, postParams, nonce));
    return anyMatches(signatures, expected) ? { ok: true } : { ok: false, reason: 'signature mismatch' };
  }

  private verifyV2(req: IngestRequest, authToken: string, signatures: string[]): Verification {
    const nonce = req.headers['x-plivo-signature-v2-nonce'];
    if (!nonce) return { ok: false, reason: 'missing X-Plivo-Signature-V2-Nonce' };
    // V2 signs only the URL without its query, so the body is not covered at all.
    const expected = hmacBase64(authToken, splitUrl(req.url).base + nonce);
    return anyMatches(signatures, expected) ? { ok: true } : { ok: false, reason: 'signature mismatch' };
  }
}

/**
 * The string Plivo's V3 signature covers, as plivo-node's validateV3Signature
 * builds it: scheme://host[:port]/path; then `?` + the query parameters
 * (decoded, sorted by name then value, `name=value` joined by `&`); for a POST
 * with parameters a `.` after a non-empty query, then the POST parameters
 * sorted the same way as name+value with no separators; finally `.` + nonce.
 */
export function plivoV3SignedString(method: 'GET' | 'POST', url: string, postParams: ParamMap, nonce: string): string {
  const { base, query } = splitUrl(url);
  const sortedQuery = sortedEntries(groupQuery(query))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const signsPostParams = method === 'POST' && postParams.size > 0;
  let signed = base;
  if (sortedQuery.length > 0 || signsPostParams) signed += `?${sortedQuery}`;
  if (sortedQuery.length > 0 && signsPostParams) signed += '.';
  if (signsPostParams)
    signed += sortedEntries(postParams)
      .map(([name, value]) => name + value)
      .join('');
  return `${signed}.${nonce}`;
}

function signatureList(req: IngestRequest, ...headers: string[]): string[] {
  return headers
    .flatMap((name) => (req.headers[name] ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function anyMatches(signatures: readonly string[], expected: string): boolean {
  // Compare against every candidate so the time does not tell which one matched.
  return signatures.map((signature) => constantTimeEqual(signature, expected)).includes(true);
}

function hmacBase64(authToken: string, data: string): string {
  return createHmac('sha256', authToken).update(data, 'utf8').digest('base64');
}

/** Splits an absolute URL the way plivo-node's uri-parser does: user info and fragment are not signed. */
function splitUrl(url: string): { base: string; query: string } {
  const match = /^([^:/?#]+):\/\/(?:[^@/?#]*@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(url);
  if (!match) return { base: url, query: '' };
  const [, scheme, hostAndPort, path, query] = match;
  return { base: `${scheme}://${hostAndPort}${path}`, query: query ?? '' };
}

/** Query values decoded by Node's querystring, as plivo-node does (`+` is a space). */
function groupQuery(query: string): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of Object.entries(parseQueryString(query))) {
    if (value !== undefined) grouped.set(name, Array.isArray(value) ? value : [value]);
  }
  return grouped;
}

function groupParams(params: URLSearchParams): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of params) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return grouped;
}

/** Names sorted, and each name's values sorted, with JavaScript's default string order. */
function sortedEntries(params: ParamMap): Array<[string, string]> {
  return [...params.keys()].sort().flatMap((name) => [...(params.get(name) ?? [])].sort().map((value): [string, string] => [name, value]));
}

/** Success is reported as an absent or all-zero code. */
function errorCode(value: string | null): string | null {
  return value === null || /^0+$/.test(value) ? null : value;
}
