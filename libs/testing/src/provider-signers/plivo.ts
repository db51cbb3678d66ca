import { createHmac, randomBytes } from 'node:crypto';
import { parse as parseQueryString } from 'node:querystring';
import { validateSignature } from 'plivo/dist/utils/security';
import { validateV3Signature } from 'plivo/dist/utils/v3Security';
import type { SignedRequest } from './signed-request';

export type PlivoCredentials = {
  auth_token: string;
};

export interface PlivoSignOptions {
  method?: 'GET' | 'POST';
  nonce?: string;
}

/**
 * A status callback signed with X-Plivo-Signature-V3. plivo-node only
 * verifies, so the signature is built here from the documented recipe and
 * checked with plivo-node's validateV3Signature before it is handed out.
 * A GET carries `params` in the query string; a POST in a form body.
 */
export function signPlivoV3(
  url: string,
  params: Readonly<Record<string, string>>,
  credentials: PlivoCredentials,
  options: PlivoSignOptions = {},
): SignedRequest {
  const method = options.method ?? 'POST';
  const nonce = options.nonce ?? randomBytes(10).toString('hex');
  const form = new URLSearchParams(params).toString();
  const requestUrl = method === 'GET' && form.length > 0 ? `${url}${url.includes('?') ? '&' : '?'}${form}` : url;
  const postParams = method === 'POST' ? { ...params } : {};
  const signature = hmac(credentials.auth_token, `${v3BaseString(requestUrl, postParams)}.${nonce}`);
  if (!validateV3Signature(method, requestUrl, nonce, credentials.auth_token, signature, postParams)) {
    throw new Error('plivo-node rejects the V3 signature built for the test');
  }
  return {
    method,
    url: requestUrl,
    headers: {
      ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      'x-plivo-signature-v3': signature,
      'x-plivo-signature-v3-nonce': nonce,
    },
    body: Buffer.from(method === 'POST' ? form : '', 'utf8'),
  };
}

/** A form POST signed only with the older X-Plivo-Signature-V2 (URL without query + nonce), checked with plivo-node. */
export function signPlivoV2(
  url: string,
  params: Readonly<Record<string, string>>,
  credentials: PlivoCredentials,
  nonce = '12345678901234567890',
): SignedRequest {
  const withoutQuery = url.split(/[?#]/)[0];
  const signature = hmac(credentials.auth_token, withoutQuery + nonce);
  if (!validateSignature(url, nonce, signature, credentials.auth_token)) {
    throw new Error('plivo-node rejects the V2 signature built for the test');
  }
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v2': signature,
      'x-plivo-signature-v2-nonce': nonce,
    },
    body: Buffer.from(new URLSearchParams(params).toString(), 'utf8'),
  };
}

function hmac(authToken: string, data: string): string {
  return createHmac('sha256', authToken).update(data).digest('base64');
}

function v3BaseString(url: string, postParams: Readonly<Record<string, string>>): string {
  const [withoutFragment] = url.split('#');
  const queryStart = withoutFragment.indexOf('?');
  const base = queryStart === -1 ? withoutFragment : withoutFragment.slice(0, queryStart);
  const parsed = parseQueryString(queryStart === -1 ? '' : withoutFragment.slice(queryStart + 1));
  const query = Object.keys(parsed)
    .sort()
    .flatMap((name) =>
      [parsed[name] ?? []]
        .flat()
        .sort()
        .map((value) => `${name}=${value}`),
    )
    .join('&');
  const postNames = Object.keys(postParams).sort();
  const post = postNames.map((name) => name + postParams[name]).join('');
  if (postNames.length === 0) return query.length > 0 ? `${base}?${query}` : base;
  return `${base}?${query}${query.length > 0 ? '.' : ''}${post}`;
}
