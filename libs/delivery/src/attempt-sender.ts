import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { schemaVersionOf } from '@hookhub/contracts';
import { awaitsAttempt, RetryScheduleRepository, SubscriptionEntity } from '@hookhub/persistence';
import { contextOf, endSpan, injectTrace, recordSetter, TraceContext, tracingOn } from '@hookhub/tracing';
import { attemptErrorType, attemptSpan } from './delivery-spans';
import { DELIVERY_SETTINGS, DeliverySettings } from './delivery.settings';
import { EventPayloads } from './payload';
import { SenderPermissions } from './sender-permissions';
import { SubscriptionSlot } from './subscription-load';
import { WebhookSenderFactory } from './webhook-client.module';
import { WebhookRequestBuilder } from './webhook-request';
import { SendResult, WebhookSender } from './webhook-sender';

/** One attempt of one delivery, as admitted. */
export interface DeliveryJob {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  subscription: SubscriptionEntity;
  payloads: EventPayloads;
  /** The event's version in its resource's log (`X-Webhook-Resource-Version`); null for deliveries made before it was kept. */
  resourceVersion: number | null;
  /** When the delivery's state was last read from PostgreSQL (`Date.now()`): see `RECHECK_AFTER_MS`. */
  admittedAt: number;
  /** The span the attempt's span hangs from (the event's or the retry job's consumer span); tracing on only. */
  trace?: TraceContext;
}

/** What sending came to: a request made, one refused before it was made, or no attempt because another already settled it. */
export type Sent = { kind: 'sent'; result: SendResult; headers: Record<string, string> } | { kind: 'refused'; reason: string } | { kind: 'superseded' };

/**
 * An attempt that has waited longer than this since its delivery's state was
 * read (a frozen or overloaded process) reads it again before sending: its
 * message may have been handed to another pod meanwhile, which delivered it.
 * Far below any ack wait, so a message is never in two pods' hands unchecked.
 */
export const RECHECK_AFTER_MS = 5_000;

/**
 * The send stage: waits for the admitted slot, checks the creator's rights,
 * signs and makes the HTTP request. It decides nothing about when (admission
 * did) and records nothing (settlement does).
 */
@Injectable()
export class AttemptSender implements OnApplicationShutdown {
  private readonly sender: WebhookSender;

  constructor(
    @Inject(DELIVERY_SETTINGS) settings: DeliverySettings,
    senders: WebhookSenderFactory,
    private readonly requests: WebhookRequestBuilder,
    private readonly permissions: SenderPermissions,
    private readonly deliveries: RetryScheduleRepository,
  ) {
    // Per origin. Subscriptions on one host share a pool, so it must never be what limits them:
    // with as many connections as the pod has requests, a hanging endpoint holds only its own slots.
    this.sender = senders.create({ connections: Math.max(8, settings.maxPerSubscription, settings.maxConcurrentRequests) });
  }

  /** Sends the attempt in its slot and gives the slot back. */
  async send(job: DeliveryJob, slot: SubscriptionSlot): Promise<Sent> {
    try {
      await slot.ready;
      if (Date.now() - job.admittedAt > RECHECK_AFTER_MS && !(await this.stillDue(job))) return { kind: 'superseded' };
      const refusal = await this.permissions.refusal(job.subscription);
      if (refusal) return { kind: 'refused', reason: refusal };
      const body = job.payloads.body(job.subscription.format);
      const headers = this.requests.headers({
        subscription: job.subscription,
        eventType: job.payloads.event.type,
        deliveryId: job.deliveryId,
        attempt: job.attempt,
        resourceVersion: job.resourceVersion,
        schemaVersion: schemaVersionOf(job.payloads.event),
        body,
      });
      const result = await slot.onTheWire(() =>
        tracingOn() ? this.sendTraced(job, headers, body) : this.sender.send({ url: job.subscription.url, headers, body }),
      );
      // The headers as signed and logged: `traceparent` is on the wire only (the delivery log is the same with tracing on or off).
      return { kind: 'sent', result, headers };
    } finally {
      slot.release();
    }
  }

  /**
   * The request in an HTTP client span, carrying `traceparent` (and `tracestate`) so the receiver's own
   * spans join the event's trace with this attempt as their parent. An extra header: the signatures
   * cover the body (and Standard Webhooks' id and timestamp), which stay as they are.
   */
  private async sendTraced(job: DeliveryJob, headers: Record<string, string>, body: string): Promise<SendResult> {
    const span = attemptSpan({ deliveryId: job.deliveryId, subscriptionId: job.subscription.id, attempt: job.attempt, url: job.subscription.url }, job.trace);
    const wire = { ...headers };
    injectTrace(contextOf(span), wire, recordSetter);
    const result = await this.sender.send({ url: job.subscription.url, headers: wire, body });
    if (result.status !== null) span?.setAttribute('http.response.status_code', result.status);
    endSpan(span, result.ok ? null : result.error, result.ok ? undefined : attemptErrorType(result));
    return result;
  }

  /** Whether the delivery still waits for exactly this attempt. */
  private async stillDue(job: DeliveryJob): Promise<boolean> {
    const now = (await this.deliveries.loadRetryContexts([job.deliveryId])).get(job.deliveryId);
    return !!now && awaitsAttempt(now, job.attempt);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
