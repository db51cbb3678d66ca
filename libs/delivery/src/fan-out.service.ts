import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChangeStatus, EventEnvelope, schemaVersionOf } from '@hookhub/contracts';
import { EventRecorder, eventKey } from '@hookhub/event-store';
import { ExistingDelivery, FanOutRepository, NewDeliveryRow, SubscriptionEntity, SubscriptionRepository } from '@hookhub/persistence';
import { DeliveryMetrics } from './delivery-metrics';
import { SubscriptionFilters, subscriptionMatches } from './subscription-matcher';

/** What a batch's fan-out decided: each event's deliveries, and what the log recorded each event as. */
export interface FanOutPlan {
  /** Every delivery of each event, keyed by `eventKey`. */
  deliveries: Map<string, PlannedDelivery[]>;
  /** The change status the event log holds for each event, keyed by `eventKey` (what a thin notification says). */
  statuses: Map<string, ChangeStatus>;
}

export interface PlannedDelivery {
  delivery: ExistingDelivery;
  subscription: SubscriptionEntity;
}

/**
 * Records a batch of events and creates their deliveries in one transaction,
 * so a thin-notification receiver that fetches the resource right away finds
 * the snapshot the notification announces, and a redelivered event finds the
 * deliveries it created before instead of making new ones.
 */
@Injectable()
export class FanOutService implements OnApplicationShutdown {
  private readonly logger = new Logger(FanOutService.name);
  private readonly filters = new SubscriptionFilters((subscriptionId, err) =>
    this.logger.warn({ subscriptionId, err: err.message }, 'stored filter does not compile; it matches no event until it is replaced'),
  );
  private readonly filteredCounts: FilteredCounts;

  constructor(
    private readonly dataSource: DataSource,
    private readonly recorder: EventRecorder,
    private readonly subscriptions: SubscriptionRepository,
    private readonly deliveries: FanOutRepository,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.filteredCounts = new FilteredCounts(subscriptions, this.logger);
  }

  /**
   * Every delivery of each event and its recorded change status. New deliveries of the
   * subscriptions in `parkDelays` are created parked for that long (admission's verdict on
   * busy endpoints): the retry scheduler releases them when it is over. Those of a
   * rate-limited subscription are created in its rate line, in event order (RateLine sends them).
   * `traceParents` (tracing on): each event's fan-out span by `eventKey`, kept beside its deliveries.
   */
  async fanOut(
    events: EventEnvelope[],
    parkDelays: ReadonlyMap<string, number> = new Map(),
    traceParents: ReadonlyMap<string, string> = new Map(),
  ): Promise<FanOutPlan> {
    const tenantIds = [...new Set(events.map((e) => e.account_id))];
    let rows: NewDeliveryRow[] = [];
    let skipped: FilterSkips = new Map();
    let subs: SubscriptionEntity[] = [];
    // The subscriptions are read on another connection while the transaction records the
    // events: one round trip less before the first delivery can start.
    const candidates = this.subscriptions.findActiveForTenants(tenantIds).then((found) => {
      subs = found;
      ({ rows, skipped } = this.deliveryRows(events, found, parkDelays, traceParents));
    });
    candidates.catch(() => undefined); // awaited (and its error raised) inside the transaction
    const { existing, statuses, fresh } = await this.dataSource.transaction(async (m) => {
      const recorded = await this.recorder.record(m, events);
      await candidates;
      return { existing: await this.deliveries.upsertMany(m, rows), statuses: recorded.statuses, fresh: recorded.fresh };
    });
    this.countSkipped(skipped, fresh);

    const subsById = new Map(subs.map((s) => [s.id, s]));
    const tenantOf = new Map(rows.map((r) => [`${r.subscriptionId}:${r.eventId}`, r.tenantId]));
    const plan = new Map<string, PlannedDelivery[]>();
    for (const delivery of existing) {
      const subscription = subsById.get(delivery.subscriptionId);
      const tenantId = tenantOf.get(`${delivery.subscriptionId}:${delivery.eventId}`);
      if (!subscription || !tenantId) continue;
      const key = eventKey({ account_id: tenantId, id: delivery.eventId });
      const planned = plan.get(key);
      if (planned) planned.push({ delivery, subscription });
      else plan.set(key, [{ delivery, subscription }]);
    }
    return { deliveries: plan, statuses };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.filteredCounts.drain();
  }

  /**
   * One delivery per event and matching subscription of its tenant whose payload filter the
   * envelope passes; the events each subscription's filter kept out, by subscription.
   */
  private deliveryRows(
    events: EventEnvelope[],
    subs: SubscriptionEntity[],
    parkDelays: ReadonlyMap<string, number>,
    traceParents: ReadonlyMap<string, string>,
  ): { rows: NewDeliveryRow[]; skipped: FilterSkips } {
    const byTenant = new Map<string, Array<{ sub: SubscriptionEntity; test: ((e: EventEnvelope) => boolean) | null; limited: boolean }>>();
    for (const sub of subs) {
      // Compiled filters come from the cache: a lookup per subscription and batch, not a compilation.
      const entry = { sub, test: this.filters.testFor(sub), limited: (sub.ratePerSecond ?? null) !== null };
      const list = byTenant.get(sub.tenantId);
      if (list) list.push(entry);
      else byTenant.set(sub.tenantId, [entry]);
    }
    const rows: NewDeliveryRow[] = [];
    const skipped: FilterSkips = new Map();
    for (const event of events) {
      const matchable = { type: event.type, modelId: event.model_id, schemaVersion: schemaVersionOf(event) };
      const traceParent = traceParents.size > 0 ? traceParents.get(eventKey(event)) : undefined;
      for (const { sub, test, limited } of byTenant.get(event.account_id) ?? []) {
        if (!subscriptionMatches(sub, matchable)) continue;
        if (test && !test(event)) {
          const key = eventKey(event);
          const subsOfEvent = skipped.get(key);
          if (subsOfEvent) subsOfEvent.add(sub.id);
          else skipped.set(key, new Set([sub.id]));
          continue;
        }
        rows.push({
          id: randomUUID(),
          tenantId: event.account_id,
          subscriptionId: sub.id,
          eventId: event.id,
          eventType: event.type,
          // A rate-limited subscription's deliveries wait in its rate line instead, busy endpoint or not (its pacer leases nothing meanwhile).
          parkMs: limited ? undefined : parkDelays.get(sub.id),
          rateLimited: limited,
          traceParent,
        });
      }
    }
    return { rows, skipped };
  }

  /**
   * Counts the events filters kept out, only those this batch recorded first: a redelivered
   * event was counted by the batch that recorded it. One total for the metric, and per
   * subscription for `filtered_count` in PostgreSQL.
   */
  private countSkipped(skipped: FilterSkips, fresh: ReadonlySet<string>): void {
    if (skipped.size === 0) return;
    const bySubscription = new Map<string, number>();
    let total = 0;
    for (const [key, subIds] of skipped) {
      if (!fresh.has(key)) continue;
      for (const id of subIds) bySubscription.set(id, (bySubscription.get(id) ?? 0) + 1);
      total += subIds.size;
    }
    if (total === 0) return;
    this.metrics.filtered.inc(total);
    this.filteredCounts.add(bySubscription);
  }
}

/** The subscriptions whose filter kept each event out, by `eventKey`. */
type FilterSkips = Map<string, Set<string>>;

/**
 * Each subscription's count of events its filter skipped, added to `subscriptions.filtered_count`
 * in bulk. Why there and not in Prometheus: a per-subscription label would add a series for every
 * subscription of every tenant, without bound, to every dispatcher's metrics; the metric is one
 * total (`hookhub_events_filtered_total`) and the per-subscription figure is the API's.
 *
 * Why after the fan-out's transaction and not inside it: the UPDATE locks subscription rows,
 * which the attempt log also updates, and concurrent fan-outs of a tenant would queue behind
 * each other's locks until commit. Here one statement at a time per pod adds what every batch
 * counted meanwhile, off the path of the deliveries. A failed statement puts its counts back
 * for the next one; counts of a pod that crashes before its statement are lost (a clean
 * shutdown writes them).
 */
class FilteredCounts {
  private pending = new Map<string, number>();
  private writing: Promise<void> | null = null;

  constructor(
    private readonly subscriptions: SubscriptionRepository,
    private readonly logger: Logger,
  ) {}

  add(counts: ReadonlyMap<string, number>): void {
    for (const [id, n] of counts) this.pending.set(id, (this.pending.get(id) ?? 0) + n);
    if (!this.writing) this.writing = this.writeAll();
  }

  /** Resolves once every count added so far is written (or has failed to be). */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    let failures = 0;
    while (this.pending.size > 0 && failures < 3) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.subscriptions.addFilteredCounts(batch);
        failures = 0;
      } catch (err) {
        // A deadlock with an attempt batch updating the same rows, or PostgreSQL away: try again with what came meanwhile.
        failures++;
        for (const [id, n] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + n);
        this.logger.warn({ err: (err as Error).message, subscriptions: batch.size }, 'could not add to filtered_count; retrying');
        await new Promise((r) => setTimeout(r, 100 * failures));
      }
    }
    this.writing = null;
    // Counts that came while the last statement failed for good wait for the next batch's.
  }
}
