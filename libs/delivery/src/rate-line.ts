import { Inject, Injectable, Logger } from '@nestjs/common';
import { canonicalEnvelope, EventEnvelope, withSchemaVersion } from '@hookhub/contracts';
import { EventTypeRegistry } from '@hookhub/event-catalogue';
import { LeasedDelivery, RateLineRepository, SubscriptionEntity, SubscriptionRepository } from '@hookhub/persistence';
import { traceFromParent } from '@hookhub/tracing';
import { DeliveryAdmission } from './admission';
import { AttemptSender, DeliveryJob } from './attempt-sender';
import { AttemptSettlement } from './attempt-settlement';
import { DeliveryMetrics } from './delivery-metrics';
import { DELIVERY_SETTINGS, DeliverySettings } from './delivery.settings';
import { EventPayloads } from './payload';
import { lateAllowanceMs, LEASE_HORIZON_MS, MAX_LEASE, planSlots, RateLimit, SlotPlan } from './rate-budget';
import { SenderPermissions } from './sender-permissions';

/** How often a pod looks for lines it does not pace yet (deliveries that joined on another pod, a line left by a pod that stopped). */
const SWEEP_MS = 1_000;
/** Shortest pause between two leases of one line by one pod. */
const MIN_ROUND_MS = 20;
/** Another pod was leasing this line's budget: ask again after this long (plus as much jitter). */
const CONTENDED_MS = 15;
/**
 * A lease's first send time is at least this long after the budget was read, and longer when this pod's
 * leases take longer to come back (a loaded pod or database): see `round`.
 */
const MIN_LEAD_MS = 20;
const MAX_LEAD_MS = 200;
/** A lease that failed (PostgreSQL away) is tried again after this long. */
const FAILED_ROUND_MS = 1_000;

/** One line this pod paces: the timer of its next lease, and whether deliveries joined while a lease was running. */
interface Pacer {
  timer?: NodeJS.Timeout;
  round?: Promise<void>;
  woken: boolean;
}

/**
 * Sends the deliveries of rate-limited subscriptions, at their subscription's
 * rate summed over every pod. Each such subscription has a line of deliveries
 * waiting for budget in PostgreSQL (RateLineRepository): the fan-out creates
 * first attempts there, and retries join it when due. Every pod paces the
 * lines it knows of: it leases from the subscription's shared budget the send
 * times of the next `LEASE_HORIZON_MS` (rate-budget.ts), takes as many
 * deliveries from the head of the line in the same transaction, and sends
 * each at its time through the usual send and settle stages. Nothing else
 * sends them, so they leave in line order, oldest first.
 *
 * A pod that dies holding a lease wastes at most its horizon of the budget;
 * the deliveries it had taken are parked until `ackWaitMs` after the lease,
 * and the retry scheduler puts them back in line then (in their old place).
 */
@Injectable()
export class RateLine {
  private readonly logger = new Logger(RateLine.name);
  private readonly pacers = new Map<string, Pacer>();
  /** Leased deliveries waiting for their send time or being sent: shutdown waits for them. */
  private readonly sending = new Set<Promise<void>>();
  /** Leased deliveries whose time passed before they could go, put back in their lines together. */
  private late: LeasedDelivery[] = [];
  private lateFlush?: Promise<void>;
  private sweepTimer?: NodeJS.Timeout;
  /** How long this pod's leases take from reading the budget to having the deliveries in hand (moving average, ms). */
  private leaseMs = 0;
  private stopped = true;

  constructor(
    private readonly repo: RateLineRepository,
    private readonly subscriptions: SubscriptionRepository,
    private readonly admission: DeliveryAdmission,
    private readonly sender: AttemptSender,
    private readonly settlement: AttemptSettlement,
    private readonly registry: EventTypeRegistry,
    private readonly permissions: SenderPermissions,
    private readonly metrics: DeliveryMetrics,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
  ) {}

  start(): void {
    this.stopped = false;
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_MS);
    void this.sweep();
  }

  /** Leases no more, and waits for the deliveries already leased: each is sent at its time (at most the horizon away). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    for (const pacer of this.pacers.values()) clearTimeout(pacer.timer);
    await Promise.allSettled([...this.pacers.values()].flatMap((p) => (p.round ? [p.round] : [])));
    this.pacers.clear();
    this.metrics.rateLines.set(0);
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  /** Deliveries joined this subscription's line (the fan-out created them there, or retries joined): pace it from this pod. */
  wake(subscriptionId: string): void {
    if (this.stopped) return;
    const pacer = this.pacers.get(subscriptionId);
    if (pacer) {
      pacer.woken = true;
      return;
    }
    const fresh: Pacer = { woken: false };
    this.pacers.set(subscriptionId, fresh);
    this.metrics.rateLines.set(this.pacers.size);
    this.next(subscriptionId, fresh, 0);
  }

  /**
   * Puts attempts that are due (retries, deliveries released from a hold or a parking) into their subscriptions'
   * lines: those still waiting for exactly that attempt and owned by nothing else. Throws when PostgreSQL does;
   * the caller's job then comes back.
   */
  async join(attempts: Array<{ deliveryId: string; attempt: number }>): Promise<void> {
    const grown = await this.repo.join(attempts);
    this.metrics.rateLimited.inc(grown.length);
    for (const id of new Set(grown)) this.wake(id);
  }

  private next(subscriptionId: string, pacer: Pacer, delayMs: number): void {
    pacer.timer = setTimeout(() => {
      pacer.timer = undefined;
      pacer.woken = false;
      pacer.round = this.round(subscriptionId).then(
        (delay) => this.after(subscriptionId, pacer, delay),
        (err: unknown) => {
          this.logger.warn({ err: (err as Error).message, subscriptionId }, 'leasing from a rate line failed; trying again');
          this.after(subscriptionId, pacer, FAILED_ROUND_MS);
        },
      );
    }, delayMs);
  }

  /** After a lease: the next one, or none when the line is empty (unless deliveries joined meanwhile). */
  private after(subscriptionId: string, pacer: Pacer, delayMs: number | null): void {
    pacer.round = undefined;
    if (this.stopped) return;
    if (delayMs === null && !pacer.woken) {
      this.pacers.delete(subscriptionId);
      this.metrics.rateLines.set(this.pacers.size);
      return;
    }
    this.next(subscriptionId, pacer, delayMs ?? 0);
  }

  /** One lease of the line's budget, its deliveries scheduled at their send times; how long until the next, null when the line is empty. */
  private async round(subscriptionId: string): Promise<number | null> {
    // A slow or silent endpoint: send times leased now would only pile up behind it, so none are leased.
    const busy = this.admission.busyDelayMs(subscriptionId);
    if (busy !== null) return busy;
    // What the sends need is read before the lease, not between it and the send times: its key's rights are
    // cached by the check, so a send goes when due instead of after a round trip (late sends would bunch up).
    const sub = (await this.subscriptions.findByIds([subscriptionId])).get(subscriptionId);
    if (sub) await this.permissions.refusal(sub);
    const planned: { plan?: SlotPlan & { limit: RateLimit } } = {};
    const lead = Math.min(MAX_LEAD_MS, Math.max(MIN_LEAD_MS, 1.5 * this.leaseMs + 5));
    const asked = Date.now();
    const lease = await this.repo.lease(subscriptionId, LEASE_HORIZON_MS + this.settings.ackWaitMs, (budget) => {
      // No limit (any more): what still waits goes now, in order.
      if (!budget.limit) return { count: MAX_LEASE, commit: () => null };
      // Send times start a moment after the budget is read: time to commit the lease and set the timers, so that
      // even the first goes when due (`lead`: what this pod's leases have been taking, with a margin).
      const plan = planSlots(budget.limit, budget.nextSlotAtMs, budget.nowMs + lead, { max: MAX_LEASE, horizonMs: LEASE_HORIZON_MS });
      planned.plan = { ...plan, limit: budget.limit };
      return { count: plan.slots.length, commit: (taken) => (taken === 0 ? null : plan.after(taken)) };
    });
    if (lease.kind === 'contended') return CONTENDED_MS + Math.random() * CONTENDED_MS;
    this.leaseMs = this.leaseMs * 0.8 + (Date.now() - asked) * 0.2;
    if (lease.kind === 'inactive') return null;
    const plan = planned.plan;
    // The send times are on PostgreSQL's clock: each pod turns them into its own, so pods' clocks need not agree.
    const clockOffset = lease.nowMs - lease.localNowMs;
    // A send later than the limit allows for (a pod starved of CPU) goes back in line rather than out late.
    const lateAfterMs = plan ? lateAllowanceMs(plan.limit) : Infinity;
    lease.deliveries.forEach((d, i) => this.schedule(d, sub, plan ? plan.slots[i] - clockOffset : lease.localNowMs, lateAfterMs, lease.localNowMs));
    this.metrics.rateLeased.inc(lease.deliveries.length);
    if (lease.deliveries.length < lease.asked) return null;
    if (!plan) return MIN_ROUND_MS;
    // Half a horizon before this lease's times run out, so the next lease is in hand before they do.
    return Math.max(MIN_ROUND_MS, plan.nextDueMs - lease.nowMs - lead - LEASE_HORIZON_MS / 2) + Math.random() * MIN_ROUND_MS;
  }

  /** Sends a leased delivery at `atMs` (this process's clock), or puts it back in line if that moment passed by more than `lateAfterMs`. */
  private schedule(d: LeasedDelivery, sub: SubscriptionEntity | undefined, atMs: number, lateAfterMs: number, leasedAt: number): void {
    const delay = atMs - Date.now();
    const sent = (delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : Promise.resolve())
      .then(() => (Date.now() - atMs > lateAfterMs ? this.giveBack(d) : this.send(d, sub, leasedAt)))
      .catch((err: unknown) =>
        // Left parked: the retry scheduler puts it back in line once the lease's hold is over.
        this.logger.error({ err, deliveryId: d.id }, 'a leased delivery failed before its attempt was recorded; it goes back in line after the hold'),
      )
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }

  private async send(d: LeasedDelivery, sub: SubscriptionEntity | undefined, leasedAt: number): Promise<void> {
    // Deleted since, or its event expired: the retry path finds nothing to send once the hold is over, and drops it.
    if (!sub || d.envelope === null || d.schemaVersion === null || d.changeStatus === null) return;
    const admitted = this.admission.admit({ subscriptionId: sub.id, leased: true });
    if (admitted.kind !== 'send') return;
    const event = withSchemaVersion(canonicalEnvelope(d.envelope as EventEnvelope), d.schemaVersion);
    const job: DeliveryJob = {
      deliveryId: d.id,
      attempt: d.attemptCount + 1,
      subscription: sub,
      payloads: new EventPayloads(event, d.changeStatus, this.registry.current()),
      resourceVersion: d.resourceVersion,
      admittedAt: leasedAt,
      trace: traceFromParent(d.traceParent),
    };
    await this.settlement.settle(job, await this.sender.send(job, admitted.slot));
  }

  /** Puts a delivery whose send time passed back in its line (with the others of this turn of the event loop). */
  private giveBack(d: LeasedDelivery): Promise<void> {
    this.metrics.rateLate.inc();
    this.late.push(d);
    this.lateFlush ??= new Promise((resolve) => setImmediate(resolve)).then(async () => {
      const batch = this.late;
      this.late = [];
      this.lateFlush = undefined;
      for (const id of await this.repo.giveBack(batch.map((l) => ({ deliveryId: l.id, attemptCount: l.attemptCount })))) this.wake(id);
    });
    return this.lateFlush;
  }

  /** Finds the lines this pod does not pace yet. */
  private async sweep(): Promise<void> {
    try {
      for (const id of await this.repo.waitingLines(1_000)) this.wake(id);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'looking for rate lines failed; trying again');
    }
  }
}
