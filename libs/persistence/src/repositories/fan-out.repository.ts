import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { DeliveryEntity, DeliveryStatus } from '../entities/delivery.entity';
import { EventLogRepository } from './event-log.repository';
import { RATE_WAITING_REASON } from './rate-line.repository';
import { HELD_REASON, previousInFlight } from './resource-order.repository';
import { preparedQuery } from './sql';

export interface NewDeliveryRow {
  id: string;
  tenantId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  /** Created parked: its first attempt waits this long in PostgreSQL (its subscription is saturated). */
  parkMs?: number | null;
  /** Its subscription has a rate limit: created in the subscription's rate line, in the order of the rows (see RateLineRepository). */
  rateLimited?: boolean;
  /** The `traceparent` of the span that fanned its event out (tracing on): attempts sent from PostgreSQL join that trace. */
  traceParent?: string;
}

export interface ExistingDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  status: DeliveryStatus;
  attemptCount: number;
  /**
   * Waiting in PostgreSQL for whoever owns its next attempt: the retry scheduler, or its subscription's rate line
   * (`rateWaiting`), or sent under a rate budget's lease by some pod right now.
   */
  parked: boolean;
  /** In its subscription's rate line, waiting for budget: the line's pacer sends it (see RateLineRepository). */
  rateWaiting: boolean;
  /** Parked until the previous delivery of its resource is out of the way (see ResourceOrderRepository). */
  held: boolean;
  /** The event's version in its resource's log. */
  resourceVersion: number | null;
  /** True when this call inserted it, false when it existed. */
  created: boolean;
}

/** Creates the deliveries of events: the fan-out of a batch, and a replay to a newer subscription. */
@Injectable()
export class FanOutRepository {
  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    private readonly events: EventLogRepository,
  ) {}

  /**
   * Inserts the deliveries of a fan-out, skipping (event, subscription) pairs
   * that exist, and returns every pair's delivery, new or old: a redelivered
   * event finds the deliveries it created the first time. The caller holds
   * the events' resource locks (EventLogRepository), so two fan-outs of one
   * event take turns and the second finds the first's rows. A delivery is
   * never older than its event, which bounds the partitions searched.
   */
  async upsertMany(m: EntityManager, rows: NewDeliveryRow[]): Promise<ExistingDelivery[]> {
    if (rows.length === 0) return [];
    const result = await preparedQuery<{
      id: string;
      subscription_id: string;
      event_id: string;
      status: DeliveryStatus;
      attempt_count: number;
      parked: boolean;
      held: boolean;
      rate_waiting: boolean;
      resource_version: number | null;
      created: boolean;
    }>(
      m,
      'hookhub_upsert_deliveries',
      // A new delivery is created held when the previous delivery of its resource to the subscription
      // is in flight: an earlier event of the resource in this very batch, or one already stored (see
      // ResourceOrderRepository). Versions and resources come from the log rows this transaction wrote.
      // A delivery of a rate-limited subscription is created in its rate line (unless held: it joins the
      // line when released), with its place in the line numbered in the order of the rows, which is the
      // batch's event order (the sequence is drawn after the ORDER BY).
      `WITH input AS (
         SELECT u.*, e.model_type || '/' || e.model_id AS resource, e.version AS resource_version, e.recorded_at
           -- An event twice in the rows (two copies in one batch) gets one delivery: the NOT EXISTS below
           -- does not see this statement's own rows, and a second delivery of one version broke strict order.
           FROM (SELECT DISTINCT ON (subscription_id, event_id) *
                   FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $8::bool[], $10::text[]) WITH ORDINALITY
                     AS u(id, tenant_id, subscription_id, event_id, event_type, park_ms, rate_limited, trace_parent, ord)
                  ORDER BY subscription_id, event_id, ord) u
           JOIN events e ON e.tenant_id = u.tenant_id AND e.id = u.event_id
           JOIN subscriptions sub ON sub.id = u.subscription_id
         -- The subscriptions were read before this transaction: one deleted since is skipped (a delete
         -- under way is waited for) instead of failing the whole batch on the foreign key.
         FOR KEY SHARE OF sub
       ), gated AS (
         SELECT i.*, (
             lag(i.resource_version) OVER (PARTITION BY i.subscription_id, i.resource ORDER BY i.resource_version) IS NOT NULL
             OR ${previousInFlight('i')}
           ) AS held
           FROM input i
       ), inserted AS (
         INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, parked, next_attempt_at, reason, resource, resource_version,
                                 rate_waiting, rate_seq, trace_parent)
         SELECT id, tenant_id, subscription_id, event_id, event_type, 'pending', held OR (park_ms IS NOT NULL AND NOT rate_limited),
                CASE WHEN NOT held AND NOT rate_limited THEN now() + park_ms * interval '1 millisecond' END,
                CASE WHEN held THEN $7 WHEN rate_limited THEN $9 WHEN park_ms IS NOT NULL THEN 'waiting: the endpoint has too many requests open' END,
                resource, resource_version, rate_limited AND NOT held, CASE WHEN rate_limited THEN nextval('deliveries_rate_seq') END, trace_parent
           FROM gated g
          WHERE NOT EXISTS (SELECT 1 FROM deliveries d
                             WHERE d.subscription_id = g.subscription_id AND d.event_id = g.event_id AND d.created_at >= g.recorded_at)
          ORDER BY ord
         RETURNING id, subscription_id, event_id, status, attempt_count, parked, next_attempt_at, resource_version, rate_waiting
       )
       SELECT id, subscription_id, event_id, status, attempt_count, parked OR rate_waiting AS parked, parked AND next_attempt_at IS NULL AS held,
              rate_waiting, resource_version, true AS created
         FROM inserted
       UNION ALL
       SELECT d.id, d.subscription_id, d.event_id, d.status, d.attempt_count, d.parked OR d.rate_waiting, d.parked AND d.next_attempt_at IS NULL,
              d.rate_waiting, d.resource_version, false AS created
         FROM deliveries d JOIN input i ON d.subscription_id = i.subscription_id AND d.event_id = i.event_id AND d.created_at >= i.recorded_at
        WHERE d.id <> i.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.subscriptionId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => (r.parkMs == null ? null : Math.round(r.parkMs))),
        HELD_REASON,
        rows.map((r) => r.rateLimited === true),
        RATE_WAITING_REASON,
        // unnest pads a shorter array with NULLs: with tracing off nothing is sent.
        rows.some((r) => r.traceParent) ? rows.map((r) => r.traceParent ?? null) : [],
      ],
    );
    return result.map((r) => ({
      id: r.id,
      subscriptionId: r.subscription_id,
      eventId: r.event_id,
      status: r.status,
      attemptCount: r.attempt_count,
      parked: r.parked,
      held: r.held,
      rateWaiting: r.rate_waiting,
      resourceVersion: r.resource_version,
      created: r.created,
    }));
  }

  /** Creates missing deliveries for these events (a replay to a newer subscription) and returns all of them. */
  async ensureForEvents(rows: NewDeliveryRow[]): Promise<ExistingDelivery[]> {
    return this.deliveries.manager.transaction(async (m) => {
      await this.events.lockResourcesOfEvents(
        m,
        rows.map((r) => ({ tenantId: r.tenantId, id: r.eventId })),
      );
      return this.upsertMany(m, rows);
    });
  }
}
