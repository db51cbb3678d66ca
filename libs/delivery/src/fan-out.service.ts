import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChangeStatus, EventEnvelope, schemaVersionOf } from '@hookhub/contracts';
import { EventRecorder, eventKey } from '@hookhub/event-store';
import { ExistingDelivery, FanOutRepository, NewDeliveryRow, SubscriptionEntity, SubscriptionRepository } from '@hookhub/persistence';
import { subscriptionMatches } from './subscription-matcher';

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
export class FanOutService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly recorder: EventRecorder,
    private readonly subscriptions: SubscriptionRepository,
    private readonly deliveries: FanOutRepository,
  ) {}

  /**
   * Every delivery of each event and its recorded change status. New deliveries of the
   * subscriptions in `parkDelays` are created parked for that long (admission's verdict on
   * busy endpoints): the retry scheduler releases them when it is over.
   */
  async fanOut(events: EventEnvelope[], parkDelays: ReadonlyMap<string, number> = new Map()): Promise<FanOutPlan> {
    const tenantIds = [...new Set(events.map((e) => e.account_id))];
    let rows: NewDeliveryRow[] = [];
    let subs: SubscriptionEntity[] = [];
    // The subscriptions are read on another connection while the transaction records the
    // events: one round trip less before the first delivery can start.
    const candidates = this.subscriptions.findActiveForTenants(tenantIds).then((found) => {
      subs = found;
      rows = this.deliveryRows(events, found, parkDelays);
    });
    candidates.catch(() => undefined); // awaited (and its error raised) inside the transaction
    const { existing, statuses } = await this.dataSource.transaction(async (m) => {
      const recorded = await this.recorder.record(m, events);
      await candidates;
      return { existing: await this.deliveries.upsertMany(m, rows), statuses: recorded.statuses };
    });

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

  /** One delivery per event and matching subscription of its tenant. */
  private deliveryRows(events: EventEnvelope[], subs: SubscriptionEntity[], parkDelays: ReadonlyMap<string, number>): NewDeliveryRow[] {
    const byTenant = new Map<string, SubscriptionEntity[]>();
    for (const s of subs) {
      const list = byTenant.get(s.tenantId);
      if (list) list.push(s);
      else byTenant.set(s.tenantId, [s]);
    }
    const rows: NewDeliveryRow[] = [];
    for (const event of events) {
      const matchable = { type: event.type, modelId: event.model_id, schemaVersion: schemaVersionOf(event) };
      for (const sub of byTenant.get(event.account_id) ?? []) {
        if (!subscriptionMatches(sub, matchable)) continue;
        rows.push({
          id: randomUUID(),
          tenantId: event.account_id,
          subscriptionId: sub.id,
          eventId: event.id,
          eventType: event.type,
          parkMs: parkDelays.get(sub.id),
        });
      }
    }
    return rows;
  }
}
