import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ChangeStatus } from '@hookhub/contracts';
import type { SubscriptionState } from '../entities/subscription.entity';
import type { RetryContext } from './retry-schedule.repository';
import { returnedRows } from './sql';

/** Why a delivery of a rate-limited subscription waits (its `reason` until it is sent). */
export const RATE_WAITING_REASON = "waiting: the subscription's rate limit";

/** A subscription's limit as the lease reads it, with the shared budget's state. */
export interface RateBudgetState {
  /** Null: the subscription has no limit (any more): what still waits in its line goes at once. */
  limit: { perSecond: number; burst: number } | null;
  /** When the subscription's next send is due at its steady rate (ms since the epoch, PostgreSQL's clock). */
  nextSlotAtMs: number;
  /** PostgreSQL's clock, read under the budget's lock (ms since the epoch). */
  nowMs: number;
}

/** What the caller makes of the budget: how many deliveries to take, and the budget once `claimed` of them are taken. */
export interface RateLeasePlan {
  count: number;
  /** The new `nextSlotAtMs` after `claimed` (≤ count) deliveries were taken; null leaves it as it is. */
  commit(claimed: number): number | null;
}

/** A delivery taken from its line: what its attempt needs (as a retry's context), and its place in the line. */
export interface LeasedDelivery extends Omit<RetryContext, 'envelope' | 'schemaVersion' | 'changeStatus'> {
  rateSeq: bigint;
  /** Null when the event is no longer in the log (expired): the delivery is left to the retry path, which drops it. */
  envelope: unknown;
  schemaVersion: number | null;
  changeStatus: ChangeStatus | null;
  /** The `traceparent` kept beside the delivery (see FanOutRepository): its attempt joins the event's trace. */
  traceParent: string | null;
}

export type RateLease =
  /** Another pod is leasing this subscription's budget at this moment: ask again shortly. */
  | { kind: 'contended' }
  /** The subscription is gone, or not active: its line waits (and is found again by the sweep once it is active). */
  | { kind: 'inactive' }
  | {
      kind: 'leased';
      /** The head of the line, oldest first: at most the plan's count; fewer when the line is shorter. */
      deliveries: LeasedDelivery[];
      /** How many the plan asked for. */
      asked: number;
      /** PostgreSQL's clock when the budget was read, and this process's clock at that moment (to turn send times into timers). */
      nowMs: number;
      localNowMs: number;
    };

/** The budget's row, read and locked (another pod's lease in progress: skipped, not waited for). */
const LOCK_BUDGET = `SELECT (extract(epoch FROM b.next_slot_at) * 1000)::float8 AS next_slot_at_ms,
       (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms,
       s.state, s.rate_per_second, s.rate_burst
  FROM subscription_rate_budgets b JOIN subscriptions s ON s.id = b.subscription_id
 WHERE b.subscription_id = $1
   FOR UPDATE OF b SKIP LOCKED`;

/**
 * The head of the line, taken: out of the line and parked until the lease's end plus `$3` ms, so that if
 * this pod dies before the attempt is recorded the retry scheduler puts it back (the record of the attempt
 * sets `parked` and `next_attempt_at` as the attempt decided). The event is read in the same statement.
 */
const TAKE_HEAD = `WITH head AS (
  SELECT id, created_at, tenant_id, event_id FROM deliveries
   WHERE subscription_id = $1 AND rate_waiting AND status IN ('pending', 'retrying')
   ORDER BY rate_seq
   LIMIT $2
   FOR UPDATE SKIP LOCKED)
UPDATE deliveries d SET rate_waiting = false, parked = true, next_attempt_at = now() + $3 * interval '1 millisecond', updated_at = now()
  FROM head h LEFT JOIN events e ON e.tenant_id = h.tenant_id AND e.id = h.event_id
 WHERE d.id = h.id AND d.created_at = h.created_at
RETURNING d.id, d.tenant_id, d.subscription_id, d.status, d.attempt_count, d.resource_version, d.rate_seq, d.trace_parent,
          e.envelope, e.schema_version, e.change_status`;

/**
 * Each rate-limited subscription's line of deliveries waiting for budget, and
 * the budget itself, shared by every dispatcher pod (see docs/rate-limits.md).
 *
 * A delivery joins its line when it is created (the fan-out) or when its next
 * attempt is due (a retry, a held or parked delivery released): `rate_waiting`,
 * in `rate_seq` order. A pod leases from the budget the next few send times,
 * under the budget row's lock, together with as many deliveries from the head
 * of the line; it sends each at its time. Nothing else sends them.
 */
@Injectable()
export class RateLineRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One lease: locks the subscription's budget (creating it on first use), lets `plan` decide from it how many
   * deliveries to take, takes them from the head of the line and stores the budget `plan.commit` returns, in one
   * transaction. A taken delivery is parked until `holdMs` after the lease (see TAKE_HEAD).
   */
  async lease(subscriptionId: string, holdMs: number, plan: (budget: RateBudgetState) => RateLeasePlan): Promise<RateLease> {
    return this.dataSource.transaction(async (m) => {
      type BudgetRow = { next_slot_at_ms: number; now_ms: number; state: SubscriptionState; rate_per_second: number | null; rate_burst: number | null };
      const lock = async (): Promise<{ row?: BudgetRow; localNowMs: number }> => {
        const before = Date.now();
        const rows: BudgetRow[] = await m.query(LOCK_BUDGET, [subscriptionId]);
        // PostgreSQL read its clock somewhere within the round trip: its middle is the best guess.
        return { row: rows[0], localNowMs: (before + Date.now()) / 2 };
      };
      let { row, localNowMs } = await lock();
      if (!row) {
        const created = returnedRows<{ id: string }>(
          await m.query(
            `INSERT INTO subscription_rate_budgets (subscription_id, next_slot_at) SELECT id, now() FROM subscriptions WHERE id = $1
             ON CONFLICT (subscription_id) DO NOTHING RETURNING subscription_id AS id`,
            [subscriptionId],
          ),
        );
        if (created.length === 0) {
          const exists: unknown[] = await m.query(`SELECT 1 FROM subscriptions WHERE id = $1`, [subscriptionId]);
          return exists.length === 0 ? { kind: 'inactive' } : { kind: 'contended' };
        }
        ({ row, localNowMs } = await lock());
        if (!row) return { kind: 'contended' };
      }
      if (row.state !== 'active') return { kind: 'inactive' };
      const limit = row.rate_per_second === null || row.rate_burst === null ? null : { perSecond: row.rate_per_second, burst: row.rate_burst };
      const decided = plan({ limit, nextSlotAtMs: row.next_slot_at_ms, nowMs: row.now_ms });
      const deliveries =
        decided.count > 0
          ? returnedRows<TakenRow>(await m.query(TAKE_HEAD, [subscriptionId, decided.count, holdMs]))
              .map(leased)
              .sort(byPlace)
          : [];
      const next = decided.commit(deliveries.length);
      if (next !== null && next !== row.next_slot_at_ms) {
        await m.query(`UPDATE subscription_rate_budgets SET next_slot_at = to_timestamp($2::float8 / 1000) WHERE subscription_id = $1`, [subscriptionId, next]);
      }
      return { kind: 'leased', deliveries, asked: decided.count, nowMs: row.now_ms, localNowMs };
    });
  }

  /**
   * Puts deliveries whose next attempt is due into their subscriptions' lines (a retry job, a released held or
   * parked delivery of a rate-limited subscription): those still waiting for exactly that attempt and owned by
   * nobody else (not parked, not already in line). A delivery keeps the place it was given when created, so it
   * goes before newer ones. Returns the subscriptions whose lines grew.
   */
  async join(attempts: Array<{ deliveryId: string; attempt: number }>): Promise<string[]> {
    if (attempts.length === 0) return [];
    const rows = returnedRows<{ subscription_id: string }>(
      await this.dataSource.query(
        `UPDATE deliveries d SET rate_waiting = true, rate_seq = COALESCE(d.rate_seq, nextval('deliveries_rate_seq')), updated_at = now()
           FROM unnest($1::uuid[], $2::int[]) AS u(id, attempt)
          WHERE d.id = u.id AND NOT d.rate_waiting AND d.status IN ('pending', 'retrying') AND d.attempt_count < u.attempt
            -- Taken by a lease (parked until its hold ends), a parked retry not yet due, or held: owned elsewhere. A due
            -- parked one is the retry scheduler's, releasing it in the transaction that published this job: the row
            -- lock makes this wait for that commit (a filter on 'parked' alone would skip it, as it was, and lose it).
            AND NOT (d.parked AND (d.next_attempt_at IS NULL OR d.next_attempt_at > now()))
          RETURNING d.subscription_id`,
        [attempts.map((a) => a.deliveryId), attempts.map((a) => a.attempt)],
      ),
    );
    return [...new Set(rows.map((r) => r.subscription_id))];
  }

  /**
   * Puts deliveries a lease took back at the head of their lines, in their places: their send times passed
   * before this pod could send them (it was starved of CPU), and a send made late would bunch up with the next
   * ones. Only those still taken and not attempted are put back. Returns their subscriptions.
   */
  async giveBack(deliveries: Array<{ deliveryId: string; attemptCount: number }>): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const rows = returnedRows<{ subscription_id: string }>(
      await this.dataSource.query(
        `UPDATE deliveries d SET rate_waiting = true, parked = false, next_attempt_at = NULL, updated_at = now()
           FROM unnest($1::uuid[], $2::int[]) AS u(id, attempt_count)
          WHERE d.id = u.id AND d.parked AND NOT d.rate_waiting AND d.status IN ('pending', 'retrying') AND d.attempt_count = u.attempt_count
          RETURNING d.subscription_id`,
        [deliveries.map((d) => d.deliveryId), deliveries.map((d) => d.attemptCount)],
      ),
    );
    return [...new Set(rows.map((r) => r.subscription_id))];
  }

  /** Active subscriptions with deliveries in their lines (at most `limit`): one index probe per line, however long the lines are. */
  async waitingLines(limit: number): Promise<string[]> {
    const rows: Array<{ subscription_id: string }> = await this.dataSource.query(
      `WITH RECURSIVE lines AS (
         (SELECT subscription_id FROM deliveries WHERE rate_waiting ORDER BY subscription_id LIMIT 1)
         UNION ALL
         SELECT (SELECT d.subscription_id FROM deliveries d WHERE d.rate_waiting AND d.subscription_id > l.subscription_id
                  ORDER BY d.subscription_id LIMIT 1)
           FROM lines l WHERE l.subscription_id IS NOT NULL)
       SELECT l.subscription_id FROM lines l JOIN subscriptions s ON s.id = l.subscription_id AND s.state = 'active' LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.subscription_id);
  }
}

interface TakenRow {
  id: string;
  tenant_id: string;
  subscription_id: string;
  status: RetryContext['status'];
  attempt_count: number;
  resource_version: number | null;
  rate_seq: string;
  envelope: unknown;
  schema_version: number | null;
  change_status: ChangeStatus | null;
  trace_parent: string | null;
}

function leased(r: TakenRow): LeasedDelivery {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    subscriptionId: r.subscription_id,
    status: r.status,
    attemptCount: r.attempt_count,
    resourceVersion: r.resource_version,
    rateSeq: BigInt(r.rate_seq),
    envelope: r.envelope,
    schemaVersion: r.schema_version,
    changeStatus: r.change_status,
    traceParent: r.trace_parent,
  };
}

const byPlace = (a: LeasedDelivery, b: LeasedDelivery): number => (a.rateSeq < b.rateSeq ? -1 : a.rateSeq > b.rateSeq ? 1 : 0);
