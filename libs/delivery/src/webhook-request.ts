import { Injectable } from '@nestjs/common';
import type { SubscriptionEntity } from '@hookhub/persistence';
import { SecretVault, signatureHeaders } from '@hookhub/signing';

const USER_AGENT = 'Hookhub-Webhooks/1.0';

/** What a request's delivery headers follow from. */
export interface DeliveryHeaderSource {
  eventType: string;
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  resourceVersion?: number | null;
  /** The version of its type's schema the event follows; unknown for an event past retention. */
  schemaVersion?: number;
}

/** The headers every attempt of a delivery sends, apart from its signatures and the subscription's own. */
function deliveryHeaders(d: DeliveryHeaderSource): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-Webhook-Event': d.eventType,
    'X-Webhook-Delivery': d.deliveryId,
    'X-Webhook-Subscription': d.subscriptionId,
    'X-Webhook-Attempt': String(d.attempt),
    ...(d.resourceVersion != null ? { 'X-Webhook-Resource-Version': String(d.resourceVersion) } : {}),
    ...(d.schemaVersion !== undefined ? { 'X-Webhook-Schema-Version': String(d.schemaVersion) } : {}),
  };
}

const DELIVERY_HEADER_NAMES = new Set([
  ...Object.keys(deliveryHeaders({ eventType: '', deliveryId: '', subscriptionId: '', attempt: 0, resourceVersion: 0, schemaVersion: 0 })),
]);

/**
 * The headers an attempt sent, as the delivery log shows them: rebuilt from
 * the delivery and the attempt number, with what the attempt log stored (the
 * signatures, and custom header names with their values redacted).
 */
export function sentRequestHeaders(d: DeliveryHeaderSource, stored: Record<string, string>): Record<string, string> {
  return { ...deliveryHeaders(d), ...stored };
}

export interface WebhookMessage {
  subscription: SubscriptionEntity;
  eventType: string;
  /** Delivery UUID: `X-Webhook-Delivery`, and `webhook-id` for Standard Webhooks. */
  deliveryId: string;
  attempt: number;
  /** The event's version in its resource's log, when known: receivers drop a version older than one they have. */
  resourceVersion?: number | null;
  /** The version of its type's schema the event follows. */
  schemaVersion: number;
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
      ...deliveryHeaders({
        eventType: m.eventType,
        deliveryId: m.deliveryId,
        subscriptionId: sub.id,
        attempt: m.attempt,
        resourceVersion: m.resourceVersion,
        schemaVersion: m.schemaVersion,
      }),
      ...signatureHeaders({
        scheme: sub.signatureScheme,
        secrets: this.signingSecrets(sub),
        body: m.body,
        messageId: m.deliveryId,
        timestamp: Math.floor(Date.now() / 1000),
      }),
    };
  }

  /**
   * What the attempt log keeps of a request's headers: custom header values
   * may be credentials of the receiver, so only their names; and the headers
   * that follow from the delivery and the attempt number are left out (see
   * `sentRequestHeaders`): each attempt stores only its own signatures.
   */
  loggable(sub: SubscriptionEntity, headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) {
      if (k in sub.headers) out[k] = '[redacted]';
      else if (!DELIVERY_HEADER_NAMES.has(k)) out[k] = v;
    }
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
