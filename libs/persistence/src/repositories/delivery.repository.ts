import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { ChangeStatus } from '@hookhub/contracts';
import { DeliveryAttemptEntity, DeliveryEntity, DeliveryStatus } from '../entities';
import { HELD_REASON, previousInFlight } from './resource-order.repository';
import { preparedQuery, returnedRows } from './sql';

export interface NewDeliveryRow {
  id: string;
  tenantId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  /** Created parked: its first attempt waits this long in PostgreSQL (its subscription is saturated). */
  parkMs?: number | null;
}

export interface ExistingDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  status: DeliveryStatus;
  attemptCount: number;
  /** Waiting in PostgreSQL for the retry scheduler, which owns its next attempt. */
  parked: boolean;
  /** Parked until the previous delivery of its resource is out of the way (see ResourceOrderRepository). */
  held: boolean;
  /** The event's version in its resource's log. */
  resourceVersion: number | null;
  /** True when this call inserted it, false when it existed. */
  created: boolean;
}

/** The result of one HTTP attempt, and the delivery state it leads to. */
export interface AttemptRecord {
  id: string;
  deliveryId: string;
  attempt: number;
  outcome: 'success' | 'failure';
  startedAt: Date;
  durationMs: number;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  error: string | null;
  /** The delivery's status after this attempt. */
  status: DeliveryStatus;
  reason: string | null;
  nextAttemptAt: Date | null;
  /** The next attempt waits in PostgreSQL rather than in JetStream. */
  parked: boolean;
  subscriptionId: string;
  /** Whether the attempt counts for the subscription's health (a blocked delivery does not). */
  health: 'success' | 'failure' | null;
}

/** A subscription switched off by `recordAttempts` because of consecutive failures. */
export interface DisabledSubscription {
  id: string;
  tenantId: string;
  url: string;
  state: string;
  eventTypes: string[];
  consecutiveFailures: number;
  /** When its run of failures began. */
  failingSince: Date;
  reason: string;
  lastError: string | null;
}

/** A retry waiting in PostgreSQL whose time has come. */
export interface DueRetry {
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  dueAt: Date;
}

/** What a retry needs to run: the delivery's state and the event it carries. */
export interface RetryContext {
  id: string;
  tenantId: string;
  subscriptionId: string;
  status: DeliveryStatus;
  attemptCount: number;
  resourceVersion: number | null;
  envelope: unknown;
  /** What the event log recorded the event as: a thin notification says this, not what the type's name suggests. */
  changeStatus: ChangeStatus;
}

/**
 * Whether a delivery still waits for this attempt: not settled, and no attempt
 * with this number or a later one recorded (jobs are at-least-once, attempts
 * must not repeat).
 */
export function awaitsAttempt(ctx: Pick<RetryContext, 'status' | 'attemptCount'>, attempt: number): boolean {
  return (ctx.status === 'pending' || ctx.status === 'retrying') && ctx.attemptCount < attempt;
}

/** The attempt records of `recordAttempts`, from its one JSON parameter. */
const RECORD_INPUT = `input AS (
  SELECT * FROM json_to_recordset($1::json) AS x(
    id uuid, delivery_id uuid, attempt int, outcome text, started_at timestamptz, duration_ms int, request_url text,
    request_headers jsonb, response_status int, response_headers jsonb, response_body text, error text,
    status text, reason text, next_attempt_at timestamptz, finished_at timestamptz, parked bool, subscription_id uuid, health text))`;

// A delivery deleted with its subscription while its attempt was in flight has nowhere to record
// it: \`live\` locks the deliveries that still exist (a concurrent delete waits for this batch, or
// has committed and its rows are skipped) so the batch never fails on the foreign key and the
// other rows are written. Locking in id order, like \`SubscriptionRepository.deleteForTenant\`,
// keeps the cascade of a delete and the batches from deadlocking.
const INSERT_ATTEMPTS = `live AS (
  SELECT d.id FROM deliveries d WHERE d.id IN (SELECT delivery_id FROM input) ORDER BY d.id FOR NO KEY UPDATE),
attempts AS (
  INSERT INTO delivery_attempts (id, delivery_id, attempt, outcome, started_at, duration_ms, request_url,
    request_headers, response_status, response_headers, response_body, error)
  SELECT i.id, i.delivery_id, i.attempt, i.outcome, i.started_at, i.duration_ms, i.request_url,
    i.request_headers, i.response_status, i.response_headers, i.response_body, i.error FROM input i JOIN live l ON l.id = i.delivery_id)`;

// Delivered and cancelled are final, whatever a late attempt says; an attempt that would
// retry for a subscription disabled meanwhile is cancelled instead of waiting forever.
const UPDATE_DELIVERIES = `UPDATE deliveries d SET
  status = CASE
    WHEN d.status IN ('delivered', 'cancelled') THEN d.status
    WHEN u.status = 'retrying' AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = d.subscription_id AND s.state = 'disabled')
      THEN 'cancelled'
    ELSE u.status END,
  attempt_count = GREATEST(d.attempt_count, u.attempt),
  last_status_code = u.response_status,
  reason = CASE WHEN d.status IN ('delivered', 'cancelled') THEN d.reason ELSE u.reason END,
  next_attempt_at = CASE WHEN d.status IN ('delivered', 'cancelled') THEN NULL ELSE u.next_attempt_at END,
  parked = CASE WHEN d.status IN ('delivered', 'cancelled') THEN false ELSE u.parked END,
  delivered_at = CASE WHEN u.status = 'delivered' THEN COALESCE(d.delivered_at, u.finished_at) ELSE d.delivered_at END,
  updated_at = now()
FROM input u JOIN live l ON l.id = u.delivery_id
WHERE d.id = u.delivery_id`;

@Injectable()
export class DeliveryRepository {
  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectRepository(DeliveryAttemptEntity) private readonly attempts: Repository<DeliveryAttemptEntity>,
  ) {}

  /**
   * Inserts the deliveries of a fan-out, skipping (event, subscription) pairs
   * that exist, and returns every pair's delivery, new or old: a redelivered
   * event finds the deliveries it created the first time.
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
      resource_version: number | null;
      created: boolean;
    }>(
      m,
      'hookhub_upsert_deliveries',
      // A new delivery is created held when the previous delivery of its resource to the subscription
      // is in flight: an earlier event of the resource in this very batch, or one already stored (see
      // ResourceOrderRepository). Versions and resources come from the log rows this transaction wrote.
      `WITH input AS (
         SELECT u.*, e.model_type || '/' || e.model_id AS resource, e.version AS resource_version
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[])
             AS u(id, tenant_id, subscription_id, event_id, event_type, park_ms)
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
         INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, parked, next_attempt_at, reason, resource, resource_version)
         SELECT id, tenant_id, subscription_id, event_id, event_type, 'pending', held OR park_ms IS NOT NULL,
                CASE WHEN NOT held THEN now() + park_ms * interval '1 millisecond' END,
                CASE WHEN held THEN $7 WHEN park_ms IS NOT NULL THEN 'waiting: the endpoint has too many requests open' END,
                resource, resource_version
           FROM gated
         ON CONFLICT (subscription_id, event_id) DO NOTHING
         RETURNING id, subscription_id, event_id, status, attempt_count, parked, next_attempt_at, resource_version
       )
       SELECT id, subscription_id, event_id, status, attempt_count, parked, parked AND next_attempt_at IS NULL AS held, resource_version,
              true AS created
         FROM inserted
       UNION ALL
       SELECT d.id, d.subscription_id, d.event_id, d.status, d.attempt_count, d.parked, d.parked AND d.next_attempt_at IS NULL,
              d.resource_version, false AS created
         FROM deliveries d JOIN input i ON d.subscription_id = i.subscription_id AND d.event_id = i.event_id
        WHERE d.id <> i.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.subscriptionId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => (r.parkMs == null ? null : Math.round(r.parkMs))),
        HELD_REASON,
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
      resourceVersion: r.resource_version,
      created: r.created,
    }));
  }

  /**
   * Writes a batch of attempts, the delivery states they lead to and the
   * subscriptions' consecutive-failure counts, atomically. A subscription
   * with at least `disableAfter` failures in a row whose endpoint has also
   * been failing for its minimum time (its own `disable_after_failing_ms`, or
   * `disableAfterFailingMs`) is disabled and its waiting retries are
   * cancelled; those subscriptions are returned. An attempt whose delivery no
   * longer exists (its subscription was deleted) is left out.
   *
   * The batch travels as one JSON parameter (one `JSON.stringify`, no
   * per-element array escaping). A batch without failures, the usual case,
   * is one statement: attempts, delivery states and the reset of any failure
   * count, with no transaction round trips around it.
   */
  async recordAttempts(records: AttemptRecord[], disableAfter: number, disableAfterFailingMs: number): Promise<DisabledSubscription[]> {
    if (records.length === 0) return [];
    const input = JSON.stringify(
      records.map((r) => ({
        id: r.id,
        delivery_id: r.deliveryId,
        attempt: r.attempt,
        outcome: r.outcome,
        started_at: r.startedAt.toISOString(),
        duration_ms: r.durationMs,
        request_url: r.requestUrl,
        request_headers: r.requestHeaders,
        response_status: r.responseStatus,
        response_headers: r.responseHeaders,
        response_body: r.responseBody,
        error: r.error,
        status: r.status,
        reason: r.reason,
        next_attempt_at: r.nextAttemptAt ? r.nextAttemptAt.toISOString() : null,
        finished_at: new Date(r.startedAt.getTime() + r.durationMs).toISOString(),
        parked: r.parked,
        subscription_id: r.subscriptionId,
        health: r.health,
      })),
    );
    if (!records.some((r) => r.health === 'failure')) {
      // A single statement is atomic: no failure in the batch means no subscription can be disabled by it.
      await preparedQuery(
        this.deliveries.manager,
        'hookhub_record_attempts',
        `WITH ${RECORD_INPUT}, ${INSERT_ATTEMPTS},
         healthy AS (
           UPDATE subscriptions s SET consecutive_failures = 0, failing_since = NULL
            WHERE s.id IN (SELECT subscription_id FROM input WHERE health = 'success') AND s.consecutive_failures <> 0
         )
         ${UPDATE_DELIVERIES}`,
        [input],
      );
      return [];
    }
    return this.deliveries.manager.transaction(async (m) => {
      await m.query(`WITH ${RECORD_INPUT}, ${INSERT_ATTEMPTS} ${UPDATE_DELIVERIES}`, [input]);
      return this.updateHealth(m, records, disableAfter, disableAfterFailingMs);
    });
  }

  /**
   * Success resets the count; each failure after the batch's last success adds one. `failing_since`
   * is when the current run of failures began: the first failure after the last success.
   */
  private async updateHealth(
    m: EntityManager,
    records: AttemptRecord[],
    disableAfter: number,
    disableAfterFailingMs: number,
  ): Promise<DisabledSubscription[]> {
    const health = new Map<string, { reset: boolean; failures: number; failingFrom: Date | null; lastError: string | null }>();
    for (const r of records) {
      if (!r.health) continue;
      const h = health.get(r.subscriptionId) ?? { reset: false, failures: 0, failingFrom: null, lastError: null };
      if (r.health === 'success') {
        h.reset = true;
        h.failures = 0;
        h.failingFrom = null;
      } else {
        h.failures++;
        h.lastError = r.error;
        if (!h.failingFrom || r.startedAt < h.failingFrom) h.failingFrom = r.startedAt;
      }
      health.set(r.subscriptionId, h);
    }
    if (health.size === 0) return [];
    const ids = [...health.keys()];
    const counts = returnedRows<{ id: string; consecutive_failures: number; failing_since: Date | null; long_enough: boolean }>(
      await m.query(
      // A healthy subscription whose count is 0 and stays 0 is not written: every attempt batch
      // would otherwise rewrite the row and queue behind the other batches' row lock.
      `UPDATE subscriptions s SET
          consecutive_failures = CASE WHEN u.reset THEN u.failures ELSE s.consecutive_failures + u.failures END,
          failing_since = CASE WHEN u.failures = 0 THEN NULL WHEN u.reset THEN u.failing_from ELSE COALESCE(s.failing_since, u.failing_from) END
         FROM unnest($1::uuid[], $2::bool[], $3::int[], $4::timestamptz[]) AS u(id, reset, failures, failing_from)
        WHERE s.id = u.id AND NOT (u.reset AND u.failures = 0 AND s.consecutive_failures = 0)
        RETURNING s.id, s.consecutive_failures, s.failing_since,
          s.failing_since <= now() - COALESCE(s.disable_after_failing_ms, $5) * interval '1 millisecond' AS long_enough`,
        [
          ids,
          ids.map((id) => health.get(id)!.reset),
          ids.map((id) => health.get(id)!.failures),
          ids.map((id) => health.get(id)!.failingFrom?.toISOString() ?? null),
          disableAfterFailingMs,
        ],
      ),
    );
    // Both conditions: ten failures of one burst into a brief outage are not enough on their own.
    const tripped = counts.filter((c) => c.consecutive_failures >= disableAfter && c.long_enough && c.failing_since);
    if (tripped.length === 0) return [];
    const reasons = new Map(
      tripped.map((c) => [c.id, `disabled after ${c.consecutive_failures} consecutive failed attempts, failing since ${new Date(c.failing_since!).toISOString()}`]),
    );
    const disabled = returnedRows<{
      id: string;
      tenant_id: string;
      url: string;
      state: string;
      event_types: string[];
      consecutive_failures: number;
      failing_since: Date;
      state_reason: string;
    }>(
      await m.query(
        `UPDATE subscriptions s SET state = 'disabled', state_reason = t.reason, disabled_at = now(), updated_at = now()
           FROM unnest($1::uuid[], $2::text[]) AS t(id, reason)
          WHERE s.id = t.id AND s.state = 'active'
          RETURNING s.id, s.tenant_id, s.url, s.state, s.event_types, s.consecutive_failures, s.failing_since, s.state_reason`,
        [[...reasons.keys()], [...reasons.values()]],
      ),
    );
    if (disabled.length === 0) return [];
    await m.query(
      `UPDATE deliveries SET status = 'cancelled', reason = 'the subscription was disabled', parked = false, next_attempt_at = NULL, updated_at = now()
        WHERE subscription_id = ANY($1) AND status IN ('retrying', 'pending')`,
      [disabled.map((d) => d.id)],
    );
    return disabled.map((d) => ({
      id: d.id,
      tenantId: d.tenant_id,
      url: d.url,
      state: d.state,
      eventTypes: d.event_types,
      consecutiveFailures: d.consecutive_failures,
      failingSince: new Date(d.failing_since),
      reason: d.state_reason,
      lastError: health.get(d.id)?.lastError ?? null,
    }));
  }

  /**
   * Claims parked retries that are due, hands them to `enqueue` (which puts
   * them on JetStream and returns the ids it stored) and un-parks those, in one transaction: a crash before
   * commit leaves them parked, and the job's message id makes a second enqueue
   * harmless.
   */
  async releaseDueRetries(limit: number, enqueue: (due: DueRetry[]) => Promise<string[]>): Promise<number> {
    return this.deliveries.manager.transaction(async (m) => {
      const rows: Array<{ id: string; subscription_id: string; attempt_count: number; next_attempt_at: Date }> = await m.query(
        `SELECT id, subscription_id, attempt_count, next_attempt_at FROM deliveries
          WHERE parked AND next_attempt_at <= now()
          ORDER BY next_attempt_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      // Only what JetStream stored is un-parked: one failed publish leaves its row for the next pass
      // instead of rolling back the others.
      const enqueued = await enqueue(
        rows.map((r) => ({ deliveryId: r.id, subscriptionId: r.subscription_id, attempt: r.attempt_count + 1, dueAt: r.next_attempt_at })),
      );
      if (enqueued.length > 0) await m.query(`UPDATE deliveries SET parked = false WHERE id = ANY($1)`, [enqueued]);
      return enqueued.length;
    });
  }

  /** Delivery state and event envelope of the deliveries that retry jobs name. */
  async loadRetryContexts(ids: string[]): Promise<Map<string, RetryContext>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{
      id: string;
      tenant_id: string;
      subscription_id: string;
      status: DeliveryStatus;
      attempt_count: number;
      resource_version: number | null;
      envelope: unknown;
      change_status: ChangeStatus;
    }> = await this.deliveries.manager.query(
        `SELECT d.id, d.tenant_id, d.subscription_id, d.status, d.attempt_count, d.resource_version, e.envelope, e.change_status
           FROM deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
          WHERE d.id = ANY($1)`,
        [ids],
      );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          tenantId: r.tenant_id,
          subscriptionId: r.subscription_id,
          status: r.status,
          attemptCount: r.attempt_count,
          resourceVersion: r.resource_version,
          envelope: r.envelope,
          changeStatus: r.change_status,
        },
      ]),
    );
  }

  /**
   * Puts deliveries back in line for an attempt now (manual retry, replay):
   * parked and due, so the dispatchers' scheduler enqueues them within a
   * second. Going through the database keeps the request durable even when
   * NATS is unreachable. Returns how many were requeued.
   */
  async requeue(tenantId: string, ids: string[], reason: string): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = returnedRows<{ id: string }>(
      await this.deliveries.manager.query(
        `UPDATE deliveries SET status = 'retrying', parked = true, next_attempt_at = now(), reason = $3, updated_at = now()
          WHERE tenant_id = $1 AND id = ANY($2)
          RETURNING id`,
        [tenantId, ids, reason],
      ),
    );
    return rows.length;
  }

  /** Ids of a subscription's deliveries in these states created since a time, oldest first. */
  async idsSince(tenantId: string, subscriptionId: string, since: Date, statuses: DeliveryStatus[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.deliveries.manager.query(
      `SELECT id FROM deliveries WHERE tenant_id = $1 AND subscription_id = $2 AND created_at >= $3 AND status = ANY($4) ORDER BY created_at, id`,
      [tenantId, subscriptionId, since, statuses],
    );
    return rows.map((r) => r.id);
  }

  /** Creates missing deliveries for these events (a replay to a newer subscription) and returns all of them. */
  async ensureForEvents(rows: NewDeliveryRow[]): Promise<ExistingDelivery[]> {
    return this.deliveries.manager.transaction((m) => this.upsertMany(m, rows));
  }

  findForTenant(tenantId: string, id: string): Promise<DeliveryEntity | null> {
    return this.deliveries.findOneBy({ tenantId, id });
  }

  /** Newest first; the cursor is the id of the last delivery of the previous page. */
  async pageForSubscription(
    tenantId: string,
    subscriptionId: string,
    filter: { status?: DeliveryStatus; eventType?: string; since?: Date; until?: Date; limit: number; cursor?: string },
  ): Promise<{ items: DeliveryEntity[]; nextCursor: string | null }> {
    const qb = this.deliveries
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId AND d.subscription_id = :subscriptionId', { tenantId, subscriptionId })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(filter.limit + 1);
    if (filter.status) qb.andWhere('d.status = :status', { status: filter.status });
    if (filter.eventType) qb.andWhere('d.event_type = :eventType', { eventType: filter.eventType });
    if (filter.since) qb.andWhere('d.created_at >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('d.created_at < :until', { until: filter.until });
    if (filter.cursor) {
      qb.andWhere('(d.created_at, d.id) < (SELECT c.created_at, c.id FROM deliveries c WHERE c.id = :cursor AND c.tenant_id = :tenantId)', {
        cursor: filter.cursor,
      });
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, filter.limit);
    return { items, nextCursor: rows.length > filter.limit ? items[items.length - 1].id : null };
  }

  listAttempts(deliveryId: string): Promise<DeliveryAttemptEntity[]> {
    return this.attempts.find({ where: { deliveryId }, order: { attempt: 'ASC', startedAt: 'ASC' } });
  }
}
