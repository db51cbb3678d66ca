import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { DeliveryEntity, DeliveryStatus } from '../entities/delivery.entity';
import { cancelWaitingRetries } from './retry-schedule.repository';
import { preparedQuery, returnedRows } from './sql';

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
// An attempt is stored in its delivery's partition (by the delivery's \`created_at\`), to expire with it.
const INSERT_ATTEMPTS = `live AS (
  SELECT d.id, d.created_at FROM deliveries d WHERE d.id IN (SELECT delivery_id FROM input) ORDER BY d.id FOR NO KEY UPDATE),
attempts AS (
  INSERT INTO delivery_attempts (id, delivery_id, delivery_created_at, attempt, outcome, started_at, duration_ms, request_url,
    request_headers, response_status, response_headers, response_body, error)
  SELECT i.id, i.delivery_id, l.created_at, i.attempt, i.outcome, i.started_at, i.duration_ms, i.request_url,
    i.request_headers, i.response_status, i.response_headers, i.response_body, i.error FROM input i JOIN live l ON l.id = i.delivery_id)`;

// Delivered and cancelled are final, whatever a late attempt says; an attempt that would
// retry for a subscription disabled meanwhile is cancelled instead of waiting forever.
// A delivery's state follows its latest attempt: of several in one batch (an attempt whose record
// was held up by an outage, batched with the retry that followed it), the highest-numbered one;
// and an attempt recorded after a later one of the same delivery changes nothing.
const UPDATE_DELIVERIES = `UPDATE deliveries d SET
  status = CASE
    WHEN d.status IN ('delivered', 'cancelled') OR u.attempt < d.attempt_count THEN d.status
    WHEN u.status = 'retrying' AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = d.subscription_id AND s.state = 'disabled')
      THEN 'cancelled'
    ELSE u.status END,
  attempt_count = GREATEST(d.attempt_count, u.attempt),
  last_status_code = CASE WHEN u.attempt < d.attempt_count THEN d.last_status_code ELSE u.response_status END,
  reason = CASE WHEN d.status IN ('delivered', 'cancelled') OR u.attempt < d.attempt_count THEN d.reason ELSE u.reason END,
  next_attempt_at = CASE WHEN d.status IN ('delivered', 'cancelled') THEN NULL WHEN u.attempt < d.attempt_count THEN d.next_attempt_at ELSE u.next_attempt_at END,
  parked = CASE WHEN d.status IN ('delivered', 'cancelled') THEN false WHEN u.attempt < d.attempt_count THEN d.parked ELSE u.parked END,
  delivered_at = CASE WHEN u.status = 'delivered' THEN COALESCE(d.delivered_at, u.finished_at) ELSE d.delivered_at END,
  updated_at = now()
FROM (SELECT DISTINCT ON (delivery_id) * FROM input ORDER BY delivery_id, attempt DESC) u JOIN live l ON l.id = u.delivery_id
WHERE d.id = u.delivery_id`;

/**
 * Records the outcomes of HTTP attempts: the attempts themselves, the delivery
 * states they lead to (delivered, retrying, parked, failed) and the
 * subscriptions' health, which can disable a subscription.
 */
@Injectable()
export class DeliveryOutcomeRepository {
  constructor(@InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>) {}

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
   * is one statement for attempts and delivery states, with no transaction
   * round trips around it, and one more for each subscription whose failure
   * count it resets.
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
      const failing = await preparedQuery<{ id: string }>(
        this.deliveries.manager,
        'hookhub_record_attempts',
        `WITH ${RECORD_INPUT}, ${INSERT_ATTEMPTS}, updated AS (${UPDATE_DELIVERIES})
         SELECT s.id FROM subscriptions s
          WHERE s.id IN (SELECT subscription_id FROM input WHERE health = 'success') AND s.consecutive_failures <> 0`,
        [input],
      );
      for (const { id } of failing) await this.resetFailures(id);
      return [];
    }
    return this.deliveries.manager.transaction(async (m) => {
      await m.query(`WITH ${RECORD_INPUT}, ${INSERT_ATTEMPTS} ${UPDATE_DELIVERIES}`, [input]);
      return this.updateHealth(m, records, disableAfter, disableAfterFailingMs);
    });
  }

  /**
   * One subscription a statement: batches resetting the same ones in their own orders deadlocked.
   * The batch is written by now, so a reset that keeps failing must not make the caller write it
   * again (its attempts would clash with themselves); the subscription's next success makes it.
   */
  private async resetFailures(id: string): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.deliveries.manager.query(
          `UPDATE subscriptions SET consecutive_failures = 0, failing_since = NULL WHERE id = $1 AND consecutive_failures <> 0`,
          [id],
        );
        return;
      } catch {
        if (tries === 3) return;
        await new Promise((r) => setTimeout(r, 100 * tries));
      }
    }
  }

  /**
   * Success resets the count; each failure after the batch's last success adds one. `failing_since`
   * is when the current run of failures began: the first failure after the last success.
   * Batches from several dispatchers update the same subscriptions. Each takes its rows' locks in id
   * order first, in a statement of its own: in the update's own order they deadlocked (a 30-minute
   * soak of seed 20261130 logged 15), and so did a locking CTE in the same statement as the update
   * (69 in a 30-minute soak of seed 20261201).
   */
  private async updateHealth(m: EntityManager, records: AttemptRecord[], disableAfter: number, disableAfterFailingMs: number): Promise<DisabledSubscription[]> {
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
    // A healthy subscription whose count is 0 and stays 0 is neither locked nor written: every attempt
    // batch would otherwise rewrite the row and queue behind the other batches' row lock.
    const changing = ids.filter((id) => {
      const h = health.get(id)!;
      return !h.reset || h.failures > 0;
    });
    const locked = returnedRows<{ id: string }>(
      await m.query(
        `SELECT id FROM subscriptions WHERE id = ANY($1::uuid[]) OR (id = ANY($2::uuid[]) AND consecutive_failures <> 0) ORDER BY id FOR NO KEY UPDATE`,
        [changing, ids],
      ),
    ).map((r) => r.id);
    const counts = returnedRows<{ id: string; consecutive_failures: number; failing_since: Date | null; long_enough: boolean }>(
      await m.query(
        `UPDATE subscriptions s SET
          consecutive_failures = CASE WHEN u.reset THEN u.failures ELSE s.consecutive_failures + u.failures END,
          failing_since = CASE WHEN u.failures = 0 THEN NULL WHEN u.reset THEN u.failing_from ELSE COALESCE(s.failing_since, u.failing_from) END
         FROM unnest($1::uuid[], $2::bool[], $3::int[], $4::timestamptz[]) AS u(id, reset, failures, failing_from)
        WHERE s.id = u.id AND s.id = ANY($6::uuid[])
        RETURNING s.id, s.consecutive_failures, s.failing_since,
          s.failing_since <= now() - COALESCE(s.disable_after_failing_ms, $5) * interval '1 millisecond' AS long_enough`,
        [
          ids,
          ids.map((id) => health.get(id)!.reset),
          ids.map((id) => health.get(id)!.failures),
          ids.map((id) => health.get(id)!.failingFrom?.toISOString() ?? null),
          disableAfterFailingMs,
          // Only rows locked above: one another batch failed meanwhile would be locked out of order.
          locked,
        ],
      ),
    );
    // Both conditions: ten failures of one burst into a brief outage are not enough on their own.
    const tripped = counts.filter((c) => c.consecutive_failures >= disableAfter && c.long_enough && c.failing_since);
    if (tripped.length === 0) return [];
    const reasons = new Map(
      tripped.map((c) => [
        c.id,
        `disabled after ${c.consecutive_failures} consecutive failed attempts, failing since ${new Date(c.failing_since!).toISOString()}`,
      ]),
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
    await cancelWaitingRetries(
      m,
      disabled.map((d) => d.id),
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
}
