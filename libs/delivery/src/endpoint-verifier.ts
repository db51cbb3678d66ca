import { randomBytes } from 'node:crypto';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { SubscriptionEntity } from '@hookhub/persistence';
import { WebhookSenderFactory } from './webhook-client.module';
import { WebhookSender } from './webhook-sender';

/** The endpoint must answer the challenge within this time (after seed 002). */
export const VERIFICATION_TIMEOUT_MS = 20_000;

export interface VerificationResult {
  verified: boolean;
  error: string | null;
}

/**
 * The verification handshake: `GET <url>?verifyToken=…&challenge=…` must be
 * answered 2xx, within 20 s, with the challenge in the body. It goes through
 * the same guarded sender as deliveries, so it cannot be aimed inside the network.
 */
@Injectable()
export class EndpointVerifier implements OnApplicationShutdown {
  private readonly sender: WebhookSender;

  constructor(senders: WebhookSenderFactory) {
    this.sender = senders.create({ connections: 16, timeoutMs: VERIFICATION_TIMEOUT_MS });
  }

  async verify(sub: Pick<SubscriptionEntity, 'url' | 'verifyToken' | 'id'>): Promise<VerificationResult> {
    if (!sub.verifyToken) return { verified: true, error: null };
    const challenge = randomBytes(16).toString('hex');
    const url = new URL(sub.url);
    url.searchParams.set('verifyToken', sub.verifyToken);
    url.searchParams.set('challenge', challenge);
    const result = await this.sender.get(url.toString(), { 'User-Agent': 'Hookhub-Webhooks/1.0', 'X-Webhook-Subscription': sub.id });
    if (!result.ok) return { verified: false, error: result.error ?? `endpoint answered ${result.status}` };
    if (!result.body?.includes(challenge)) return { verified: false, error: 'the response body does not contain the challenge' };
    return { verified: true, error: null };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
