import { createHash, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SignedRequest } from './signed-request';

export type MessagebirdCredentials = {
  signing_key: string;
};

export interface MessagebirdSignOptions {
  /** GET puts the report in the query string (MessageBird's default); POST in a form body. */
  method?: 'GET' | 'POST';
  /** The signing time; defaults to now. */
  now?: Date;
  /** Seconds between `nbf` and `exp`. */
  lifetime?: number;
  algorithm?: 'HS256' | 'HS384' | 'HS512';
}

/** The SDK's JWT verifier (lib/webhook-signature-jwt.js ships without types). */
interface JwtVerifierModule {
  verify(url: string, payload: Buffer | null, jwt: string, key: KeyObject, opts?: unknown): Promise<boolean>;
  VerifyOptions: new (validateUrl?: boolean, validatePayload?: boolean, jwtVerifyOptions?: Record<string, unknown>) => unknown;
}

/** The SDK's deprecated request signer (lib/signature.js). */
interface LegacySignerModule {
  generate(req: { headers: Record<string, string>; query: Record<string, string>; body: string }, signingKey: string): Buffer;
}

const jwtVerifier = require('messagebird/lib/webhook-signature-jwt') as JwtVerifierModule;
const legacySigner = require('messagebird/lib/signature') as LegacySignerModule;

/**
 * A status report signed with MessageBird-Signature-JWT: minted with jose the
 * way MessageBird mints it, then checked with the messagebird SDK's verifier
 * at the same instant before it is handed out.
 */
export async function signMessagebirdJwt(
  url: string,
  report: Readonly<Record<string, string>>,
  credentials: MessagebirdCredentials,
  options: MessagebirdSignOptions = {},
): Promise<SignedRequest> {
  const now = options.now ?? new Date();
  const request = unsigned(url, report, options.method ?? 'GET');
  const token = await mintJwt(request, credentials, now, options);
  const key = createSecretKey(Buffer.from(credentials.signing_key, 'utf8'));
  const jwtVerifyOptions = { issuer: 'MessageBird', algorithms: ['HS256', 'HS384', 'HS512'], clockTolerance: 5, currentDate: now };
  await jwtVerifier.verify(request.url, request.body, token, key, new jwtVerifier.VerifyOptions(true, true, jwtVerifyOptions));
  return { ...request, headers: { ...request.headers, 'messagebird-signature-jwt': token } };
}

/** Mints a token with arbitrary claims, for the cases the SDK must reject. */
export async function mintMessagebirdJwt(claims: Record<string, unknown>, signingKey: string, algorithm = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: algorithm, typ: 'JWT' }).sign(Buffer.from(signingKey, 'utf8'));
}

/** A status report signed with the deprecated MessageBird-Signature, by the SDK's own `generate`. */
export function signMessagebirdLegacy(
  url: string,
  report: Readonly<Record<string, string>>,
  credentials: MessagebirdCredentials,
  options: MessagebirdSignOptions = {},
): SignedRequest {
  const request = unsigned(url, report, options.method ?? 'GET');
  const timestamp = String(Math.floor((options.now ?? new Date()).getTime() / 1000));
  // Express would hand the SDK the decoded query as an object; so does this.
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const signature = legacySigner.generate(
    { headers: { 'messagebird-request-timestamp': timestamp }, query, body: request.body.toString('utf8') },
    credentials.signing_key,
  );
  return {
    ...request,
    headers: { ...request.headers, 'messagebird-signature': signature.toString('base64'), 'messagebird-request-timestamp': timestamp },
  };
}

async function mintJwt(request: SignedRequest, credentials: MessagebirdCredentials, now: Date, options: MessagebirdSignOptions): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const claims: Record<string, unknown> = {
    iss: 'MessageBird',
    nbf: issuedAt,
    exp: issuedAt + (options.lifetime ?? 60),
    jti: randomUUID(),
    url_hash: sha256Hex(request.url),
  };
  if (request.body.length > 0) claims.payload_hash = sha256Hex(request.body);
  return mintMessagebirdJwt(claims, credentials.signing_key, options.algorithm);
}

function unsigned(url: string, report: Readonly<Record<string, string>>, method: 'GET' | 'POST'): SignedRequest {
  const encoded = new URLSearchParams(report).toString();
  if (method === 'GET') {
    return { method, url: `${url}${url.includes('?') ? '&' : '?'}${encoded}`, headers: {}, body: Buffer.alloc(0) };
  }
  return { method, url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(encoded, 'utf8') };
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
