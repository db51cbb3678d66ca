import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { ChangeStatus } from '@hookhub/contracts';
import { DeliveryEntity, DeliveryStatus } from '../entities/delivery.entity';
import { returnedRows } from './sql';

/** A retry waiting in PostgreSQL whose time has come. */
export interface DueRetry {
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  dueAt: Date;
  /** The `traceparent` kept beside the delivery (tracing on when its event was fanned out): the attempt joins that trace. */
  traceParent: string | null;
}

/** A delivery whose next attempt waits as a job on the retries stream. */
export interface QueuedAttempt {
  deliveryId: string;
  subscriptionId: string;
  /** The attempt its job makes (the delivery's attempts so far, plus one). */
  attempt: number;
}

/** What a pass of the overdue sweep looked at and found without a job. */
export interface OverdueSweepResult {
  checked: number;
  lost: number;
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
  /** The version of its type's schema the event was published in. */
  schemaVersion: number;
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

/**
 * Cancels the deliveries of these just disabled subscriptions that still wait for an attempt, parked
 * or not, inside the caller's transaction (the one that disabled them): a disabled subscription
 * receives nothing more, so its waiting deliveries end, with the reason, instead of waiting forever.
 * Both ways of disabling (the admin API, and too many failures in a row) go through here.
 */
export async function cancelWaitingRetries(m: EntityManager, subscriptionIds: string[]): Promise<void> {
  await m.query(
    `UPDATE deliveries SET status = 'cancelled', reason = 'the subscription was disabled', parked = false, next_attempt_at = NULL, rate_waiting = false,
            updated_at = now()
      WHERE subscription_id = ANY($1) AND status IN ('retrying', 'pending')`,
    [subscriptionIds],
  );
}

/**
 * The retries that wait in PostgreSQL (parked deliveries) and what a retry job
 * reads before its attempt: the retry scheduler releases the due ones onto
 * JetStream, the retry pipeline and the executor load their state.
 */
@Injectable()
export class RetryScheduleRepository {
  constructor(@InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>) {}

  /**
   * Claims parked retries that are due, hands them to `enqueue` (which puts
   * them on JetStream and returns the ids it stored) and un-parks those, in one transaction: a crash before
   * commit leaves them parked, and the job's message id makes a second enqueue
   * harmless.
   */
  async releaseDueRetries(limit: number, enqueue: (due: DueRetry[]) => Promise<string[]>): Promise<number> {
    return this.deliveries.manager.transaction(async (m) => {
      const rows: Array<{ id: string; subscription_id: string; attempt_count: number; next_attempt_at: Date; trace_parent: string | null }> = await m.query(
        `SELECT id, subscription_id, attempt_count, next_attempt_at, trace_parent FROM deliveries
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
        rows.map((r) => ({
          deliveryId: r.id,
          subscriptionId: r.subscription_id,
          attempt: r.attempt_count + 1,
          dueAt: r.next_attempt_at,
          traceParent: r.trace_parent,
        })),
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
      schema_version: number;
      change_status: ChangeStatus;
    }> = await this.deliveries.manager.query(
      `SELECT d.id, d.tenant_id, d.subscription_id, d.status, d.attempt_count, d.resource_version, e.envelope, e.schema_version, e.change_status
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
          schemaVersion: r.schema_version,
          changeStatus: r.change_status,
        },
      ]),
    );
  }

  /**
   * Puts deliveries back in line for an attempt now (manual retry, replay):
   * parked and due, so the dispatchers' scheduler enqueues them within a
   * second. Going through the database keeps the request durable even when
   * NATS is unreachable. One waiting in its subscription's rate line leaves it: the scheduler's job brings it back
   * there, in its place, so it has one owner at a time. Returns how many were requeued.
   */
  async requeue(tenantId: string, ids: string[], reason: string): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = returnedRows<{ id: string }>(
      await this.deliveries.manager.query(
        `UPDATE deliveries SET status = 'retrying', parked = true, next_attempt_at = now(), reason = $3, rate_waiting = false, updated_at = now()
          WHERE tenant_id = $1 AND id = ANY($2)
          RETURNING id`,
        [tenantId, ids, reason],
      ),
    );
    return rows.length;
  }

  /**
   * Marks a pending delivery whose first attempt was deferred to the retries stream (its subscription
   * was saturated): from now on its attempt waits as a job, which the overdue sweep watches like a retry's.
   */
  async markQueued(deliveryId: string): Promise<void> {
    await this.deliveries.manager.query(
      `UPDATE deliveries SET next_attempt_at = now()
        WHERE id = $1 AND status = 'pending' AND NOT parked AND NOT rate_waiting AND next_attempt_at IS NULL`,
      [deliveryId],
    );
  }

  /**
   * One pass of the overdue sweep, in one transaction holding the rows it looks at (an attempt being
   * recorded for one of them waits, so no state changes under the check). Claims up to `limit`
   * deliveries whose attempt waits on the retries stream and was due more than `overdueMs` ago, and
   * hands them to `findLost`, which asks JetStream and returns the ids whose job is gone. Those are
   * parked due now: the scheduler enqueues a fresh job (a new due time, so a new message id). The
   * others' job is still there (a saturated subscription's, nak'd again and again): their
   * `next_attempt_at` moves to now, so the next passes look at other deliveries first.
   */
  async sweepOverdue(overdueMs: number, limit: number, findLost: (queued: QueuedAttempt[]) => Promise<string[]>): Promise<OverdueSweepResult> {
    return this.deliveries.manager.transaction(async (m) => {
      const rows: Array<{ id: string; subscription_id: string; attempt_count: number }> = await m.query(
        `SELECT id, subscription_id, attempt_count FROM deliveries
          WHERE next_attempt_at < now() - $1 * interval '1 millisecond' AND NOT parked AND NOT rate_waiting AND status IN ('pending', 'retrying')
          ORDER BY next_attempt_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [overdueMs, limit],
      );
      if (rows.length === 0) return { checked: 0, lost: 0 };
      const lost = new Set(await findLost(rows.map((r) => ({ deliveryId: r.id, subscriptionId: r.subscription_id, attempt: r.attempt_count + 1 }))));
      await m.query(`UPDATE deliveries SET next_attempt_at = now(), parked = (id = ANY($2::uuid[])) WHERE id = ANY($1::uuid[])`, [
        rows.map((r) => r.id),
        [...lost],
      ]);
      return { checked: rows.length, lost: lost.size };
    });
  }
}
