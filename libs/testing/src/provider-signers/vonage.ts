import { createHash, createHmac, randomBytes } from 'node:crypto';
import type * as VonageAuth from '@vonage/auth';
import type * as VonageSms from '@vonage/sms';
import type { SignedRequest } from './signed-request';

/**
 * @vonage/sms reaches ESM-only packages (uuid, node-fetch) that jest's
 * CommonJS loader cannot read, so it is loaded with Node's own `require`
 * (which loads ESM since Node 20.19), bypassing jest's module registry.
 */
function loadVonage(): { AlgorithmTypes: typeof VonageAuth.AlgorithmTypes; SMS: typeof VonageSms.SMS } {
  const nodeModule = process.getBuiltinModule('node:module');
  const nodeRequire = nodeModule.createRequire(__filename);
  const { AlgorithmTypes } = nodeRequire('@vonage/auth') as typeof VonageAuth;
  const { SMS } = nodeRequire('@vonage/sms') as typeof VonageSms;
  return { AlgorithmTypes, SMS };
}

const { AlgorithmTypes, SMS } = loadVonage();

export type VonageMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';

export type VonageCredentials = {
  signature_secret: string;
  signature_method: VonageMethod;
};

export interface VonageSignOptions {
  /** How Vonage sends the receipt: GET query (its default), form POST or JSON POST. */
  transport?: 'GET' | 'POST-form' | 'POST-json';
  /** The signing time; defaults to now. */
  now?: Date;
}

const SDK_ALGORITHMS: Readonly<Record<VonageMethod, VonageAuth.AlgorithmTypes>> = {
  md5hash: AlgorithmTypes.md5hash,
  md5: AlgorithmTypes.md5hmac,
  sha1: AlgorithmTypes.sha1hmac,
  sha256: AlgorithmTypes.sha256hmac,
  sha512: AlgorithmTypes.sha512hmac,
};

// verifySignature needs no credentials of its own; the client is only its holder.
const sms = new SMS({ apiKey: 'test-key', apiSecret: 'test-secret' });

/**
 * A signed delivery receipt: `timestamp` and `nonce` are added as Vonage adds
 * them, and `sig` is built from Vonage's documented recipe, then checked with
 * @vonage/sms verifySignature (the SDK only verifies).
 */
export function signVonageReceipt(
  url: string,
  receipt: Readonly<Record<string, string>>,
  credentials: VonageCredentials,
  options: VonageSignOptions = {},
): SignedRequest {
  const now = options.now ?? new Date();
  const params: Record<string, string> = {
    timestamp: String(Math.floor(now.getTime() / 1000)),
    nonce: randomBytes(16).toString('hex'),
    ...receipt,
  };
  params.sig = signature(params, credentials);
  if (!sms.verifySignature(params.sig, params, credentials.signature_secret, SDK_ALGORITHMS[credentials.signature_method])) {
    throw new Error('@vonage/sms rejects the receipt signature built for the test');
  }
  return asRequest(url, params, options.transport ?? 'GET');
}

function signature(params: Readonly<Record<string, string>>, credentials: VonageCredentials): string {
  const signed = Object.keys(params)
    .sort()
    .map((name) => `&${name}=${params[name].replace(/[&=]/g, '_')}`)
    .join('');
  const { signature_secret: secret, signature_method: method } = credentials;
  if (method === 'md5hash')
    return createHash('md5')
      .update(signed + secret)
      .digest('hex');
  return createHmac(method, secret).update(signed).digest('hex');
}

function asRequest(url: string, params: Record<string, string>, transport: NonNullable<VonageSignOptions['transport']>): SignedRequest {
  const query = new URLSearchParams(params).toString();
  if (transport === 'GET') {
    return { method: 'GET', url: `${url}${url.includes('?') ? '&' : '?'}${query}`, headers: {}, body: Buffer.alloc(0) };
  }
  if (transport === 'POST-form') {
    return { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(query, 'utf8') };
  }
  return { method: 'POST', url, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(params), 'utf8') };
}
