import { createHmac, randomBytes } from 'node:crypto';

export type SignatureSchemeName = 'sha256' | 'enchant' | 'standard-webhooks';

export interface SignInput {
  scheme: SignatureSchemeName;
  /** Current secret first; during a rotation the previous one follows. */
  secrets: string[];
  body: string | Uint8Array;
  /** Delivery id: Standard Webhooks signs it as `webhook-id`. */
  messageId: string;
  /** Unix seconds: Standard Webhooks signs it as `webhook-timestamp`. */
  timestamp: number;
}

const STANDARD_PREFIX = 'whsec_';

function hmacHex(secret: string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Standard Webhooks keys are base64 after the `whsec_` prefix. */
function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(STANDARD_PREFIX) ? secret.slice(STANDARD_PREFIX.length) : secret, 'base64');
}

/**
 * The signature headers of one delivery. With several secrets (rotation) each
 * header carries one signature per secret, so receivers holding either secret
 * verify: comma-separated for `sha256`/`enchant`, space-separated `v1,` entries
 * for Standard Webhooks as its spec defines.
 */
export function signatureHeaders(input: SignInput): Record<string, string> {
  const secrets = input.secrets.filter((s) => s.length > 0);
  if (secrets.length === 0) return {};
  switch (input.scheme) {
    case 'sha256':
      return { 'X-Webhook-Signature': secrets.map((s) => `sha256=${hmacHex(s, input.body)}`).join(',') };
    case 'enchant':
      return { 'Enchant-Signature': secrets.map((s) => hmacHex(s, input.body)).join(',') };
    case 'standard-webhooks': {
      const prefix = `${input.messageId}.${input.timestamp}.`;
      const signatures = secrets.map((s) => {
        const mac = createHmac('sha256', standardKey(s)).update(prefix).update(input.body).digest('base64');
        return `v1,${mac}`;
      });
      return {
        'webhook-id': input.messageId,
        'webhook-timestamp': String(input.timestamp),
        'webhook-signature': signatures.join(' '),
      };
    }
  }
}

/** A new secret in the form the scheme's receivers expect. */
export function generateSecret(scheme: SignatureSchemeName): string {
  const raw = randomBytes(32);
  return scheme === 'standard-webhooks' ? STANDARD_PREFIX + raw.toString('base64') : raw.toString('hex');
}

/** Whether a caller-supplied secret can be used with the scheme. */
export function isValidSecret(scheme: SignatureSchemeName, secret: string): boolean {
  if (scheme === 'standard-webhooks') {
    if (!secret.startsWith(STANDARD_PREFIX)) return false;
    const key = secret.slice(STANDARD_PREFIX.length);
    return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 24;
  }
  return secret.length >= 16 && secret.length <= 256;
}
