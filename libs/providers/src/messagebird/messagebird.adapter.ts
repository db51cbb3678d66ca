import { createHash, createHmac } from 'node:crypto';
import { stringify as stringifyQuery } from 'node:querystring';
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

export const MESSAGEBIRD_CREDENTIALS: CredentialSpec = {
  signing_key: {
    required: true,
    secret: true,
    description: 'Signing key of the MessageBird account (Developers, API access); it signs MessageBird-Signature-JWT.',
  },
};

/** Clock skew allowed on `nbf` and `exp`, as the messagebird SDK's verifier allows. */
export const MESSAGEBIRD_CLOCK_TOLERANCE_S = 5;
/** Age after which a legacy-signed request is refused, as in the SDK's `isRecent`. */
export const MESSAGEBIRD_LEGACY_MAX_AGE_S = 100;

/** The HMAC algorithms the SDK's verifier accepts; anything else (notably `none`) is refused. */
const JWT_HASHES = new Map([
  ['HS256', 'sha256'],
  ['HS384', 'sha384'],
  ['HS512', 'sha512'],
]);

const STATUSES = new Map<string, MessageStatus>([
  ['scheduled', 'queued'],
  ['buffered', 'queued'],
  ['sent', 'sent'],
  ['delivered', 'delivered'],
  ['expired', 'expired'],
  ['delivery_failed', 'failed'],
]);

type Claims = Readonly<Record<string, unknown>>;
type Fields = ReadonlyMap<string, string>;

const fail = (reason: string): Verification => ({ ok: false, reason });

/** MessageBird SMS status reports, sent as GET with query parameters or as POST. */
export class MessagebirdAdapter implements ProviderAdapter {
  readonly provider = 'messagebird' as const;
  readonly credentials = MESSAGEBIRD_CREDENTIALS;
  readonly acceptsGet = true;

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const signingKey = credentials.signing_key;
    if (!signingKey) return fail('signing_key not configured');
    const jwt = req.headers['messagebird-signature-jwt'];
    if (jwt) return verifyJwt(req, signingKey, jwt);
    const legacy = req.headers['messagebird-signature'];
    if (legacy) return verifyLegacy(req, signingKey, legacy);
    return fail('missing MessageBird-Signature-JWT');
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    const fields = reportFields(req);
    const id = requiredString(fields.get('id'), 'id');
    const rawStatus = requiredString(fields.get('status'), 'status');
    const statusDatetime = restorePlus(fields.get('statusDatetime') ?? null);
    const status = STATUSES.get(rawStatus.toLowerCase()) ?? 'unknown';
    const item: DeliveryStatusItem = {
      kind: 'delivery_status',
      providerEventId: `${id}:${rawStatus}:${statusDatetime ?? ''}`,
      providerMessageId: id,
      channel: 'sms',
      status,
      rawStatus,
      errorCode: optionalString(fields.get('statusErrorCode')),
      // statusReason also describes successes ("successfully delivered"); only a failure's reason is an error.
      errorMessage: status === 'failed' || status === 'expired' ? optionalString(fields.get('statusReason')) : null,
      occurredAt: isoTime(statusDatetime, req.receivedAt),
      recipient: optionalString(fields.get('recipient')),
    };
    return { items: [item], actions: [] };
  }
}

/**
 * MessageBird-Signature-JWT, checked as the SDK's webhook-signature-jwt
 * verifier does: HMAC signature first, then `iss`, `nbf`/`exp` (with
 * tolerance), `jti`, `url_hash` over the URL as called and `payload_hash` over
 * the raw body (required whenever there is a body). Unlike the SDK, a token
 * without `exp` is refused: it could be replayed forever.
 */
function verifyJwt(req: IngestRequest, signingKey: string, token: string): Verification {
  const parts = token.split('.');
  if (parts.length !== 3) return fail('malformed JWT');
  const [encodedHeader, encodedClaims, signature] = parts;
  const header = decodeJsonObject(encodedHeader);
  const claims = decodeJsonObject(encodedClaims);
  if (!header || !claims) return fail('malformed JWT');
  const hash = typeof header.alg === 'string' ? JWT_HASHES.get(header.alg) : undefined;
  if (!hash) return fail('unsupported JWT alg');
  if (header.crit !== undefined) return fail('unsupported JWT crit');

  const expected = createHmac(hash, signingKey).update(`${encodedHeader}.${encodedClaims}`, 'ascii').digest('base64url');
  if (!constantTimeEqual(signature, expected)) return fail('signature mismatch');
  return checkClaims(req, claims);
}

function checkClaims(req: IngestRequest, claims: Claims): Verification {
  const now = Math.floor(req.receivedAt.getTime() / 1000);
  if (claims.iss !== 'MessageBird') return fail('unexpected JWT issuer');
  if (claims.iat !== undefined && typeof claims.iat !== 'number') return fail('malformed JWT iat');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + MESSAGEBIRD_CLOCK_TOLERANCE_S)) {
    return fail('JWT not yet valid');
  }
  if (typeof claims.exp !== 'number' || claims.exp <= now - MESSAGEBIRD_CLOCK_TOLERANCE_S) return fail('JWT expired');
  if (claims.jti === undefined) return fail('missing JWT jti');
  if (!hashClaimMatches(claims.url_hash, req.url)) return fail('url_hash mismatch');
  if (claims.payload_hash !== undefined) {
    if (!hashClaimMatches(claims.payload_hash, req.rawBody)) return fail('payload_hash mismatch');
  } else if (req.rawBody.length > 0) {
    return fail('missing payload_hash');
  }
  return { ok: true };
}

function hashClaimMatches(claim: unknown, data: string | Buffer): boolean {
  return typeof claim === 'string' && constantTimeEqual(claim.toLowerCase(), createHash('sha256').update(data).digest('hex'));
}

function decodeJsonObject(segment: string): Claims | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Claims) : null;
  } catch {
    return null;
  }
}

/**
 * The deprecated MessageBird-Signature: base64 HMAC-SHA256 over the
 * MessageBird-Request-Timestamp, `\n`, the query re-encoded with its
 * parameters sorted (the SDK's `stringifyQuery`), `\n` and the raw SHA-256 of
 * the body.
 */
function verifyLegacy(req: IngestRequest, signingKey: string, signature: string): Verification {
  const timestamp = req.headers['messagebird-request-timestamp'];
  if (!timestamp) return fail('missing MessageBird-Request-Timestamp');
  if (!/^\d{1,12}$/.test(timestamp)) return fail('invalid timestamp');
  const age = Math.floor(req.receivedAt.getTime() / 1000) - Number(timestamp);
  if (age >= MESSAGEBIRD_LEGACY_MAX_AGE_S || age <= -MESSAGEBIRD_LEGACY_MAX_AGE_S) return fail('stale timestamp');

  const signed = Buffer.concat([Buffer.from(`${timestamp}\n${legacyQueryString(req.url)}\n`, 'utf8'), createHash('sha256').update(req.rawBody).digest()]);
  const expected = createHmac('sha256', signingKey).update(signed).digest('base64');
  // Re-encoding the decoded header compares bytes, as the SDK does, whatever the padding.
  return constantTimeEqual(Buffer.from(signature, 'base64').toString('base64'), expected) ? { ok: true } : fail('signature mismatch');
}

/** Sorted by name, encoded by Node's querystring; `statusDatetime` gets back the `+` its unencoded offset lost. */
function legacyQueryString(url: string): string {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of queryOf(url)) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const sorted: Record<string, string | string[]> = {};
  for (const name of [...grouped.keys()].sort()) {
    const values = (grouped.get(name) ?? []).map((value) => (name === 'statusDatetime' ? value.split(' ').join('+') : value));
    sorted[name] = values.length === 1 ? values[0] : values;
  }
  return stringifyQuery(sorted);
}

function queryOf(url: string): URLSearchParams {
  const queryStart = url.indexOf('?');
  return new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1).split('#')[0]);
}

/**
 * Status report fields: the query, overlaid by a form or JSON body when there
 * is one, read as what its Content-Type declares (never guessed from the bytes).
 */
function reportFields(req: IngestRequest): Fields {
  const fields = new Map<string, string>(queryOf(req.url));
  if (req.rawBody.length === 0) return fields;
  if (declaredMediaType(req, [FORM_MEDIA_TYPE, JSON_MEDIA_TYPE]) === JSON_MEDIA_TYPE) {
    const body = jsonBody(req.rawBody);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MalformedCallbackError('body is not a JSON object');
    for (const [name, value] of Object.entries(body)) {
      const text = optionalString(value);
      if (text !== null) fields.set(name, text);
    }
    return fields;
  }
  for (const [name, value] of formParams(req.rawBody)) fields.set(name, value);
  return fields;
}

/** An unencoded `+` in `2025-03-01T12:00:00+00:00` arrives as a space. */
function restorePlus(value: string | null): string | null {
  return value === null ? null : value.split(' ').join('+');
}
