import type { SignatureScheme } from '@hookhub/sdk';

/** What the example needs to know, from the environment (a real service would use @nestjs/config). */
export interface Settings {
  /** The hub's subscriptions app. */
  hookhubUrl: string;
  /** A tenant API key with the `admin` role: it creates the example's subscription and publishes. */
  apiKey: string;
  /** The signature scheme of the example's subscription. */
  scheme: SignatureScheme;
}

export const SETTINGS = Symbol('SETTINGS');

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const apiKey = env.HOOKHUB_API_KEY;
  if (!apiKey) throw new Error('HOOKHUB_API_KEY must be set: a tenant API key with the admin role');
  const scheme = (env.SIGNATURE_SCHEME ?? 'standard-webhooks') as SignatureScheme;
  if (!['sha256', 'enchant', 'standard-webhooks'].includes(scheme)) throw new Error('SIGNATURE_SCHEME must be sha256, enchant or standard-webhooks');
  return { hookhubUrl: env.HOOKHUB_URL ?? 'http://127.0.0.1:3000', apiKey, scheme };
}
