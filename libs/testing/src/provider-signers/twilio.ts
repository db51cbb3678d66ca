import { getExpectedBodyHash, getExpectedTwilioSignature, validateRequestWithBody } from 'twilio/lib/webhooks/webhooks';
import type { SignedRequest } from './signed-request';

export type TwilioCredentials = {
  auth_token: string;
};

/** A status callback as Twilio posts it: a form body signed with twilio-node's own signer. */
export function signTwilioForm(url: string, params: Readonly<Record<string, string>>, credentials: TwilioCredentials): SignedRequest {
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(credentials.auth_token, url, { ...params }),
    },
    body: Buffer.from(new URLSearchParams(params).toString(), 'utf8'),
  };
}

/**
 * A JSON callback: Twilio adds the body's SHA-256 as `bodySHA256` to the URL
 * and signs that URL alone. twilio-node only verifies the body hash, so the
 * request is checked with its validator before it is handed out.
 */
export function signTwilioJson(url: string, payload: unknown, credentials: TwilioCredentials): SignedRequest {
  const body = JSON.stringify(payload);
  const signedUrl = `${url}${url.includes('?') ? '&' : '?'}bodySHA256=${getExpectedBodyHash(body)}`;
  const signature = getExpectedTwilioSignature(credentials.auth_token, signedUrl, {});
  if (!validateRequestWithBody(credentials.auth_token, signature, signedUrl, body)) {
    throw new Error('twilio-node rejects the JSON callback built for the test');
  }
  return {
    method: 'POST',
    url: signedUrl,
    headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
    body: Buffer.from(body, 'utf8'),
  };
}
