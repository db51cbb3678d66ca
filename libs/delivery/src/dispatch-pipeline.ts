import { Injectable, Logger } from '@nestjs/common';
import { canonicalEnvelope, EventEnvelope, SCHEMA_VERSION_HEADER, withSchemaVersion } from '@hookhub/contracts';
import { EventTypeRegistry } from '@hookhub/event-catalogue';
import { eventKey } from '@hookhub/event-store';
import type { InboundMessage } from '@hookhub/jetstream';
import { RetryScheduleRepository } from '@hookhub/persistence';
import { contextOf, endSpan, Span, TraceContext, traceParentOf, tracingOn } from '@hookhub/tracing';
import { DeliveryAdmission } from './admission';
import { AttemptSender, DeliveryJob } from './attempt-sender';
import { AttemptSettlement } from './attempt-settlement';
import { DeliveryMetrics } from './delivery-metrics';
import { processSpan } from './delivery-spans';
import { FanOutService, PlannedDelivery } from './fan-out.service';
import { EventPayloads } from './payload';
import { RateLine } from './rate-line';
import { ResourceOrder } from './resource-order';
import { RetryPlanner } from './retry-planner';

const decoder = new TextDecoder();

/**
 * The path of a batch of events from JetStream to the receivers, one stage
 * after the other:
 *
 *   parse      — an event that can never be valid is terminated (here)
 *   fan out    — record the events and create their deliveries, one transaction (FanOutService)
 *   admit      — each delivery: send now, wait on the retries stream, or stay parked (DeliveryAdmission)
 *   send       — sign and make the HTTP request (AttemptSender)
 *   settle     — decide what follows, record the attempt, release the resource's next delivery (AttemptSettlement)
 *
 * Each event is acked once all its deliveries are settled; a failure before
 * that naks it, and the redelivery resumes where it stopped.
 */
@Injectable()
export class DispatchPipeline {
  private readonly logger = new Logger(DispatchPipeline.name);
  /** Moving average of the deliveries an event brings: how much work events still in line will add. */
  private deliveriesPerEvent = 1;
  /** Attempts under way on this pod, by delivery: a second copy of an event waits for them instead of repeating them. */
  private readonly inWork = new Map<string, Promise<unknown>>();

  constructor(
    private readonly fanOut: FanOutService,
    private readonly admission: DeliveryAdmission,
    private readonly sender: AttemptSender,
    private readonly settlement: AttemptSettlement,
    private readonly planner: RetryPlanner,
    private readonly order: ResourceOrder,
    private readonly deliveries: RetryScheduleRepository,
    private readonly metrics: DeliveryMetrics,
    private readonly registry: EventTypeRegistry,
    private readonly rateLine: RateLine,
  ) {}

  /** Whether this pod has enough work in line, counting what `waiting` events will add (see `ConsumerRunOptions.backlogged`). */
  backlogged(waiting: number): boolean {
    return this.admission.backlogged(waiting * this.deliveriesPerEvent);
  }

  async handleBatch(batch: InboundMessage[]): Promise<void> {
    // Each message's consumer span (tracing on only) lasts until it is acked: fan-out, attempts and retry jobs are its children.
    const spans = tracingOn() ? batch.map((msg) => processSpan('process events', msg)) : undefined;
    // 1. Parse.
    const accepted: Array<{ msg: InboundMessage; event: EventEnvelope; span?: Span }> = [];
    const parsed = await Promise.all(batch.map((msg) => this.parse(msg)));
    const seen = new Set<string>();
    batch.forEach((msg, i) => {
      const event = parsed[i];
      if (!event) return endSpan(spans?.[i], 'terminated: the event is invalid', 'invalid_event');
      // A second copy of an event in one batch (a publish retried across a leader change, a redelivery
      // queued behind its original) is acked: the first copy does the work, and comes again if it fails.
      // Both copies would otherwise send the event's deliveries, each as its own.
      const key = eventKey(event);
      if (seen.has(key)) {
        endSpan(spans?.[i]);
        return msg.ack();
      }
      seen.add(key);
      accepted.push({ msg, event, span: spans?.[i] });
    });
    if (accepted.length === 0) return;

    // 2. Record and fan out. Subscriptions admission finds saturated here get their new deliveries parked.
    let fanned: Awaited<ReturnType<FanOutService['fanOut']>>;
    try {
      fanned = await this.fanOut.fanOut(
        accepted.map((a) => a.event),
        this.admission.parkDelays(),
        traceParentsOf(accepted),
      );
    } catch (err) {
      for (const a of accepted) endSpan(a.span, 'fan-out failed; the batch is redelivered');
      throw err;
    }
    const { deliveries: plan, statuses } = fanned;
    const readAt = Date.now();
    this.afterFanOut(plan, accepted.length);

    // 3–5. Admit, send and settle every delivery; ack each event once all of its deliveries are settled.
    for (const { msg, event, span } of accepted) {
      const payloads = new EventPayloads(event, statuses.get(eventKey(event)), this.registry.current());
      // Every pending delivery is this message's to finish, whatever its delivery count: after a NATS crash
      // JetStream can hand an event out again with deliveryCount 1 while its earlier copy, whose attempt
      // failed before it was recorded, is already settled; skipping the delivery would strand it pending.
      const planned = plan.get(eventKey(event)) ?? [];
      const pending = planned.filter((p) => p.delivery.status === 'pending');
      const trace = span && this.traceFanOut(span, event, accepted.length, planned.length);
      // Settled once every delivery is: a failure must not hand the event back while its other
      // deliveries are still being sent (the redelivery would send them a second time).
      void Promise.allSettled(pending.map((p) => this.exclusively(p.delivery.id, () => this.deliver(p, payloads, readAt, trace)))).then((outcomes) => {
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (!failed) {
          endSpan(span);
          return msg.ack();
        }
        this.logger.error({ err: failed.reason, eventId: event.id }, 'delivery failed before it was recorded; redelivering the event');
        endSpan(span, 'delivery failed before it was recorded; the event is redelivered');
        msg.nak(5_000);
      });
    }
  }

  /**
   * The event's attributes on its consumer span, and a `fan-out` event on it when the batch's transaction
   * committed (the time from the span's start is the fan-out's: an event, not a child span, because a
   * span costs several times as much and this one would be per event). Returns the context the attempts
   * hang from.
   */
  private traceFanOut(span: Span, event: EventEnvelope, events: number, deliveries: number): TraceContext | undefined {
    span.setAttributes({
      'hookhub.tenant.id': event.account_id,
      'hookhub.event.id': event.id,
      'hookhub.event.type': event.type,
      'hookhub.deliveries': deliveries,
    });
    span.addEvent('fan-out', { 'hookhub.batch.events': events });
    return contextOf(span);
  }

  /** One delivery of the batch through admission, sending and settlement. */
  private async deliver(p: PlannedDelivery, payloads: EventPayloads, readAt: number, trace?: TraceContext): Promise<void> {
    const admitted = this.admission.admit({
      subscriptionId: p.subscription.id,
      parked: p.delivery.parked,
      rateLimited: this.admission.waitsForBudget(p.subscription),
    });
    // Parked: the retry scheduler releases it when due (or when its resource's earlier delivery settles), or its
    // subscription's rate line sends it (the fan-out created it there).
    if (admitted.kind === 'parked') return;
    // Pending outside the line although its subscription is rate-limited (created before the limit was set, and
    // its event redelivered): it joins the line, whose pacer sends it.
    if (admitted.kind === 'rate-line') return this.rateLine.join([{ deliveryId: p.delivery.id, attempt: p.delivery.attemptCount + 1 }]);
    const attempt = p.delivery.attemptCount + 1;
    // A busy subscription (slow or dead endpoint) must not hold this event, and with it every other
    // subscription's delivery: its attempt moves to the retries stream unchanged (still pending, so later
    // deliveries of its resource stay held behind it). The retry pipeline drops the job if the delivery
    // has moved on meanwhile, and asks admission again when it is due.
    if (admitted.kind === 'wait') return this.planner.defer(p.delivery.id, p.subscription.id, attempt, trace);
    // A delivery this message did not create may have been in work here (this runs after it) or
    // elsewhere (an event re-published after the duplicate window, a redelivery): send it only
    // if it is still pending as the fan-out saw it, so a recorded attempt is not repeated.
    if (!p.delivery.created && !(await this.stillPending(p.delivery.id, p.delivery.attemptCount))) {
      admitted.slot.release();
      return;
    }
    const job: DeliveryJob = {
      deliveryId: p.delivery.id,
      attempt,
      subscription: p.subscription,
      payloads,
      resourceVersion: p.delivery.resourceVersion,
      admittedAt: readAt,
      trace,
    };
    await this.settlement.settle(job, await this.sender.send(job, admitted.slot));
  }

  /** Bookkeeping of the fan-out's plan: the work estimate, parked counts, and held deliveries whose wait may be over. */
  private afterFanOut(plan: Map<string, PlannedDelivery[]>, events: number): void {
    let planned = 0;
    const held: string[] = [];
    const rateLines = new Set<string>();
    for (const deliveries of plan.values()) {
      planned += deliveries.length;
      for (const { delivery } of deliveries) {
        // Waiting in a rate line is no work for this pod's consumers: the line's pacer sends it, at its rate.
        if (delivery.rateWaiting) planned--;
        if (!delivery.created) continue;
        if (delivery.held) held.push(delivery.id);
        else if (delivery.rateWaiting) rateLines.add(delivery.subscriptionId);
        else if (delivery.parked) this.metrics.deferred.inc();
        if (delivery.rateWaiting) this.metrics.rateLimited.inc();
      }
    }
    // Created in their subscriptions' rate lines: this pod paces those lines too (the others find them within a second).
    for (const id of rateLines) this.rateLine.wake(id);
    this.deliveriesPerEvent = this.deliveriesPerEvent * 0.8 + (planned / events) * 0.2;
    // Held behind an earlier delivery of their resource: if that one settled before our commit made them
    // visible, its release missed them, so look again now. Failing here only delays them until the sweep.
    if (held.length > 0) {
      this.order.recheck(held).catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'releasing held deliveries failed; the sweep will'));
    }
  }

  /** Runs `work` after any attempt of the same delivery already under way on this pod. */
  private exclusively(deliveryId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.inWork.get(deliveryId);
    const run = previous ? previous.then(work, work) : work();
    const tail = run.catch(() => undefined);
    this.inWork.set(deliveryId, tail);
    void tail.then(() => {
      if (this.inWork.get(deliveryId) === tail) this.inWork.delete(deliveryId);
    });
    return run;
  }

  private async stillPending(deliveryId: string, attemptCount: number): Promise<boolean> {
    const now = (await this.deliveries.loadRetryContexts([deliveryId])).get(deliveryId);
    return now?.status === 'pending' && now.attemptCount === attemptCount;
  }

  /**
   * An event that can never be valid is terminated: redelivering it would only fail again. Its schema
   * version is the publisher's `Hookhub-Schema-Version` header, or its type's latest when there is none.
   */
  private async parse(msg: InboundMessage): Promise<EventEnvelope | null> {
    const terminate = (reason: string, details: object = {}): null => {
      this.logger.error({ subject: msg.subject, seq: msg.streamSequence, ...details }, `${reason}; terminated`);
      msg.term();
      return null;
    };
    let candidate: unknown;
    try {
      candidate = JSON.parse(decoder.decode(msg.data));
    } catch {
      return terminate('event is not JSON');
    }
    const header = msg.header(SCHEMA_VERSION_HEADER);
    const schemaVersion = header === undefined ? undefined : Number(header);
    if (schemaVersion !== undefined && !(Number.isInteger(schemaVersion) && schemaVersion > 0)) {
      return terminate(`${SCHEMA_VERSION_HEADER} is not a positive integer`, { header });
    }
    const result = await this.registry.validate(candidate, schemaVersion);
    if (!result.ok) return terminate('event is invalid', { errors: result.errors });
    return withSchemaVersion(canonicalEnvelope(result.event), result.version.version);
  }
}

/** Each event's consumer span as a `traceparent` (tracing on), kept beside its deliveries for attempts sent from PostgreSQL. */
function traceParentsOf(accepted: ReadonlyArray<{ event: EventEnvelope; span?: Span }>): Map<string, string> {
  const kept = new Map<string, string>();
  for (const { event, span } of accepted) {
    const traceParent = span && traceParentOf(contextOf(span));
    if (traceParent) kept.set(eventKey(event), traceParent);
  }
  return kept;
}
