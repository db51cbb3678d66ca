import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors';

/** The hub's signature schemes, as a subscription's `signature_scheme` names them. */
export type SignatureScheme = 'sha256' | 'enchant' | 'standard-webhooks';

/**
 * Request headers in any of the shapes a Node server has them: Node's
 * `IncomingHttpHeaders` (lower-case names), a fetch `Headers`, or a plain
 * object (names in any case).
 */
export type WebhookHeaders = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyWebhookOptions {
  /**
   * The subscription's scheme. Give it: without it the scheme is read from
   * which signature header is present, which also accepts a request signed
   * with another scheme of the same secret.
   */
  scheme?: SignatureScheme;
  /** Standard Webhooks: how far `webhook-timestamp` may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The current time in epoch milliseconds (default `Date.now()`), for tests. */
  now?: number;
}

/** A webhook whose signature matched one of the secrets. */
export interface VerifiedWebhook<T = unknown> {
  scheme: SignatureScheme;
  /** Which of the given secrets matched (0: the first). */
  secretIndex: number;
  /** The delivery id (`X-Webhook-Delivery`, `webhook-id`): the same on every retry; de-duplicate by it. */
  deliveryId: string | undefined;
  /** `X-Webhook-Event`, when present. */
  eventType: string | undefined;
  /** Standard Webhooks: `webhook-timestamp`, Unix seconds. */
  timestamp: number | undefined;
  /** The body parsed as JSON (after it verified). */
  payload: T;
}

const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const STANDARD_PREFIX = 'whsec_';
const SIGNATURE_HEADERS: Record<SignatureScheme, string> = {
  sha256: 'x-webhook-signature',
  enchant: 'enchant-signature',
  'standard-webhooks': 'webhook-signature',
};

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record[name];
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  // A header sent twice arrives as an array from some servers: one list, joined as Node and fetch join repeated headers.
  return typeof value === 'string' ? value : value?.join(', ');
}

/** The scheme whose signature header the request carries (Standard Webhooks first: its header names are its own). */
function detectScheme(headers: WebhookHeaders): SignatureScheme {
  for (const scheme of ['standard-webhooks', 'sha256', 'enchant'] as const) if (header(headers, SIGNATURE_HEADERS[scheme]) !== undefined) return scheme;
  throw new WebhookVerificationError(
    'missing_signature',
    'the request carries no Hookhub signature header (X-Webhook-Signature, Enchant-Signature or webhook-signature)',
  );
}

/** Constant-time equality of two ASCII strings; unequal lengths differ at once (the length of a signature is no secret). */
function same(given: string, expected: Buffer): boolean {
  const bytes = Buffer.from(given, 'utf8');
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

/** The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`. */
function standardKey(secret: string): Buffer {
  const encoded = secret.startsWith(STANDARD_PREFIX) ? secret.slice(STANDARD_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new WebhookVerificationError('invalid_secret', 'a standard-webhooks secret must be whsec_ followed by base64');
  }
  return Buffer.from(encoded, 'base64');
}

function matchIndex(secrets: readonly string[], signatures: readonly string[], expectedFor: (secret: string) => Buffer): number {
  for (let i = 0; i < secrets.length; i++) {
    const expected = expectedFor(secrets[i]);
    if (signatures.some((s) => same(s, expected))) return i;
  }
  return -1;
}

/**
 * Checks that a webhook request was signed by the hub with one of `secrets`,
 * over `rawBody`: the bytes as received, before any JSON parsing (a
 * re-serialised body does not match). Returns the verified request with its
 * body parsed; throws a `WebhookVerificationError` (with a `code`) otherwise.
 *
 * During a secret rotation the hub signs with the new and the old secret (two
 * signatures in the header), and a receiver may hold both secrets too: any
 * signature that matches any secret passes. Standard Webhooks requests are
 * also refused when `webhook-timestamp` is further than `toleranceSeconds`
 * (default five minutes) from now, so a captured request cannot be replayed
 * later. Every comparison is constant-time.
 */
export function verifyWebhook<T = unknown>(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secretOrSecrets: string | readonly string[],
  options: VerifyWebhookOptions = {},
): VerifiedWebhook<T> {
  const secrets = (typeof secretOrSecrets === 'string' ? [secretOrSecrets] : [...secretOrSecrets]).filter((s) => typeof s === 'string' && s.length > 0);
  if (secrets.length === 0) throw new WebhookVerificationError('no_secret', 'no secret to verify with');
  const scheme = options.scheme ?? detectScheme(headers);
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const signatureHeader = header(headers, SIGNATURE_HEADERS[scheme]);
  if (signatureHeader === undefined || signatureHeader.trim() === '') {
    throw new WebhookVerificationError('missing_signature', `the request has no ${SIGNATURE_HEADERS[scheme]} header (scheme ${scheme})`);
  }

  let secretIndex: number;
  let timestamp: number | undefined;
  let deliveryId = header(headers, 'x-webhook-delivery');
  switch (scheme) {
    case 'sha256':
    case 'enchant': {
      // `sha256=<hex>` or bare `<hex>`, comma-separated: one per secret the hub signs with.
      const prefix = scheme === 'sha256' ? 'sha256=' : '';
      const signatures = signatureHeader.split(',').map((s) => s.trim());
      secretIndex = matchIndex(secrets, signatures, (secret) => Buffer.from(prefix + createHmac('sha256', secret).update(body).digest('hex'), 'utf8'));
      break;
    }
    case 'standard-webhooks': {
      const id = header(headers, 'webhook-id');
      const stamp = header(headers, 'webhook-timestamp');
      if (!id || !stamp || !/^\d+$/.test(stamp)) {
        throw new WebhookVerificationError('missing_header', 'webhook-id and an integer webhook-timestamp are required');
      }
      timestamp = Number(stamp);
      const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
      const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
      if (timestamp < nowSeconds - tolerance) throw new WebhookVerificationError('timestamp_too_old', `webhook-timestamp is more than ${tolerance} s old`);
      if (timestamp > nowSeconds + tolerance) throw new WebhookVerificationError('timestamp_too_new', `webhook-timestamp is more than ${tolerance} s ahead`);
      // `v1,<base64>` entries separated by spaces (or by the ", " a server puts between repeated headers);
      // entries of other versions are skipped, as the spec says.
      const signatures = [...signatureHeader.matchAll(/(?:^|[\s,])v1,([A-Za-z0-9+/]+={0,2})(?=$|[\s,])/g)].map((m) => m[1]);
      const signed = `${id}.${stamp}.`;
      secretIndex = matchIndex(secrets, signatures, (secret) =>
        Buffer.from(createHmac('sha256', standardKey(secret)).update(signed).update(body).digest('base64'), 'utf8'),
      );
      deliveryId = id;
      break;
    }
  }
  if (secretIndex < 0) throw new WebhookVerificationError('invalid_signature', `no ${scheme} signature matches the secret${secrets.length > 1 ? 's' : ''}`);

  let payload: T;
  try {
    payload = JSON.parse(Buffer.from(body).toString('utf8')) as T;
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'the signature matched but the body is not JSON');
  }
  return { scheme, secretIndex, deliveryId, eventType: header(headers, 'x-webhook-event'), timestamp, payload };
}
