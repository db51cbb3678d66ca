import { Injectable } from '@nestjs/common';
import type { SubscriptionEntity } from '@hookhub/persistence';
import { SecretVault, signatureHeaders } from '@hookhub/signing';

const USER_AGENT = 'Hookhub-Webhooks/1.0';

export interface WebhookMessage {
  subscription: SubscriptionEntity;
  eventType: string;
  /** Delivery UUID: `X-Webhook-Delivery`, and `webhook-id` for Standard Webhooks. */
  deliveryId: string;
  attempt: number;
  /** The event's version in its resource's log, when known: receivers drop a version older than one they have. */
  resourceVersion?: number | null;
  body: string;
}

/**
 * The headers of a webhook request: the standard ones, the subscription's
 * custom headers and the signatures of its scheme — by the current secret and,
 * during a rotation's overlap, by the previous one too.
 */
@Injectable()
export class WebhookRequestBuilder {
  private readonly plaintexts = new Map<string, string>();

  constructor(private readonly vault: SecretVault) {}

  headers(m: WebhookMessage): Record<string, string> {
    const sub = m.subscription;
    return {
      ...sub.headers,
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      'X-Webhook-Event': m.eventType,
      'X-Webhook-Delivery': m.deliveryId,
      'X-Webhook-Subscription': sub.id,
      'X-Webhook-Attempt': String(m.attempt),
      ...(m.resourceVersion != null ? { 'X-Webhook-Resource-Version': String(m.resourceVersion) } : {}),
      ...signatureHeaders({
        scheme: sub.signatureScheme,
        secrets: this.signingSecrets(sub),
        body: m.body,
        messageId: m.deliveryId,
        timestamp: Math.floor(Date.now() / 1000),
      }),
    };
  }

  /** Custom header values may be credentials of the receiver: logs and the API keep their names only. */
  loggable(sub: SubscriptionEntity, headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) out[k] = k in sub.headers ? '[redacted]' : v;
    return out;
  }

  private signingSecrets(sub: SubscriptionEntity): string[] {
    const out: string[] = [];
    if (sub.secretCiphertext) out.push(this.decrypt(sub.secretCiphertext));
    if (sub.previousSecretCiphertext && sub.previousSecretExpiresAt && sub.previousSecretExpiresAt.getTime() > Date.now()) {
      out.push(this.decrypt(sub.previousSecretCiphertext));
    }
    return out;
  }

  /** Decryption is cached by ciphertext, so a rotation (new ciphertext) is picked up at once. */
  private decrypt(ciphertext: string): string {
    let plain = this.plaintexts.get(ciphertext);
    if (plain === undefined) {
      plain = this.vault.decrypt(ciphertext);
      if (this.plaintexts.size > 10_000) this.plaintexts.clear();
      this.plaintexts.set(ciphertext, plain);
    }
    return plain;
  }
}
