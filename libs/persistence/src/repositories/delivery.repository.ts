import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { ChangeStatus } from '@hookhub/contracts';
import { DeliveryAttemptEntity, DeliveryEntity, DeliveryStatus } from '../entities';
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
  envelope: unknown;
  /** What the event log recorded the event as: a thin notification says this, not what the type's name suggests. */
  changeStatus: ChangeStatus;
}

/** The attempt records of `recordAttempts`, from its one JSON parameter. */
const RECORD_INPUT = `input AS (
  SELECT * FROM json_to_recordset($1::json) AS x(
    id uuid, delivery_id uuid, attempt int, outcome text, started_at timestamptz, duration_ms int, request_url text,
    request_headers jsonb, response_status int, response_headers jsonb, response_body text, error text,
    status text, reason text, next_attempt_at timestamptz, finished_at timestamptz, parked bool, subscription_id uuid, health text))`;

const INSERT_ATTEMPTS = `attempts AS (
  INSERT INTO delivery_attempts (id, delivery_id, attempt, outcome, started_at, duration_ms, request_url,
    request_headers, response_status, response_headers, response_body, error)
  SELECT id, delivery_id, attempt, outcome, started_at, duration_ms, request_url,
    request_headers, response_status, response_headers, response_body, error FROM input)`;

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
FROM input u
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
      created: boolean;
    }>(
      m,
      'hookhub_upsert_deliveries',
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[])
           AS u(id, tenant_id, subscription_id, event_id, event_type, park_ms)
       ), inserted AS (
         INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, parked, next_attempt_at, reason)
         SELECT id, tenant_id, subscription_id, event_id, event_type, 'pending', park_ms IS NOT NULL,
                now() + park_ms * interval '1 millisecond',
                CASE WHEN park_ms IS NOT NULL THEN 'waiting: the endpoint has too many requests open' END
           FROM input
         ON CONFLICT (subscription_id, event_id) DO NOTHING
         RETURNING id, subscription_id, event_id, status, attempt_count, parked
       )
       SELECT *, true AS created FROM inserted
       UNION ALL
       SELECT d.id, d.subscription_id, d.event_id, d.status, d.attempt_count, d.parked, false AS created
         FROM deliveries d JOIN input i ON d.subscription_id = i.subscription_id AND d.event_id = i.event_id
        WHERE d.id <> i.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.subscriptionId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => (r.parkMs == null ? null : Math.round(r.parkMs))),
      ],
    );
    return result.map((r) => ({
      id: r.id,
      subscriptionId: r.subscription_id,
      eventId: r.event_id,
      status: r.status,
      attemptCount: r.attempt_count,
      parked: r.parked,
      created: r.created,
    }));
  }

  /**
   * Writes a batch of attempts, the delivery states they lead to and the
   * subscriptions' consecutive-failure counts, atomically. A subscription
   * reaching `disableAfter` failures in a row is disabled and its waiting
   * retries are cancelled; those subscriptions are returned.
   *
   * The batch travels as one JSON parameter (one `JSON.stringify`, no
   * per-element array escaping). A batch without failures, the usual case,
   * is one statement: attempts, delivery states and the reset of any failure
   * count, with no transaction round trips around it.
   */
  async recordAttempts(records: AttemptRecord[], disableAfter: number): Promise<DisabledSubscription[]> {
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
           UPDATE subscriptions s SET consecutive_failures = 0
            WHERE s.id IN (SELECT subscription_id FROM input WHERE health = 'success') AND s.consecutive_failures <> 0
         )
         ${UPDATE_DELIVERIES}`,
        [input],
      );
      return [];
    }
    return this.deliveries.manager.transaction(async (m) => {
      await m.query(`WITH ${RECORD_INPUT}, ${INSERT_ATTEMPTS} ${UPDATE_DELIVERIES}`, [input]);
      return this.updateHealth(m, records, disableAfter);
    });
  }

  /** Success resets the count; each failure after the batch's last success adds one. */
  private async updateHealth(m: EntityManager, records: AttemptRecord[], disableAfter: number): Promise<DisabledSubscription[]> {
    const health = new Map<string, { reset: boolean; failures: number; lastError: string | null }>();
    for (const r of records) {
      if (!r.health) continue;
      const h = health.get(r.subscriptionId) ?? { reset: false, failures: 0, lastError: null };
      if (r.health === 'success') {
        h.reset = true;
        h.failures = 0;
      } else {
        h.failures++;
        h.lastError = r.error;
      }
      health.set(r.subscriptionId, h);
    }
    if (health.size === 0) return [];
    const ids = [...health.keys()];
    const counts = returnedRows<{ id: string; consecutive_failures: number }>(
      await m.query(
      // A healthy subscription whose count is 0 and stays 0 is not written: every attempt batch
      // would otherwise rewrite the row and queue behind the other batches' row lock.
      `UPDATE subscriptions s SET consecutive_failures = CASE WHEN u.reset THEN u.failures ELSE s.consecutive_failures + u.failures END
         FROM unnest($1::uuid[], $2::bool[], $3::int[]) AS u(id, reset, failures)
        WHERE s.id = u.id AND NOT (u.reset AND u.failures = 0 AND s.consecutive_failures = 0)
        RETURNING s.id, s.consecutive_failures`,
        [ids, ids.map((id) => health.get(id)!.reset), ids.map((id) => health.get(id)!.failures)],
      ),
    );
    const tripped = counts.filter((c) => c.consecutive_failures >= disableAfter).map((c) => c.id);
    if (tripped.length === 0) return [];
    const reason = `disabled after ${disableAfter} consecutive failed attempts`;
    const disabled = returnedRows<{ id: string; tenant_id: string; url: string; state: string; event_types: string[]; consecutive_failures: number }>(
      await m.query(
        `UPDATE subscriptions SET state = 'disabled', state_reason = $2, disabled_at = now(), updated_at = now()
          WHERE id = ANY($1) AND state = 'active'
          RETURNING id, tenant_id, url, state, event_types, consecutive_failures`,
        [tripped, reason],
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
      reason,
      lastError: health.get(d.id)?.lastError ?? null,
    }));
  }

  /**
   * Claims parked retries that are due, hands them to `enqueue` (which puts
   * them on JetStream) and un-parks them, in one transaction: a crash before
   * commit leaves them parked, and the job's message id makes a second enqueue
   * harmless.
   */
  async releaseDueRetries(limit: number, enqueue: (due: DueRetry[]) => Promise<void>): Promise<number> {
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
      await enqueue(rows.map((r) => ({ deliveryId: r.id, subscriptionId: r.subscription_id, attempt: r.attempt_count + 1, dueAt: r.next_attempt_at })));
      await m.query(`UPDATE deliveries SET parked = false WHERE id = ANY($1)`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  /** Delivery state and event envelope of the deliveries that retry jobs name. */
  async loadRetryContexts(ids: string[]): Promise<Map<string, RetryContext>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; tenant_id: string; subscription_id: string; status: DeliveryStatus; attempt_count: number; envelope: unknown; change_status: ChangeStatus }> =
      await this.deliveries.manager.query(
        `SELECT d.id, d.tenant_id, d.subscription_id, d.status, d.attempt_count, e.envelope, e.change_status
           FROM deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
          WHERE d.id = ANY($1)`,
        [ids],
      );
    return new Map(
      rows.map((r) => [
        r.id,
        { id: r.id, tenantId: r.tenant_id, subscriptionId: r.subscription_id, status: r.status, attemptCount: r.attempt_count, envelope: r.envelope, changeStatus: r.change_status },
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
