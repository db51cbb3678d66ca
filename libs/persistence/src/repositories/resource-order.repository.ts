import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returnedRows } from './sql';

/** Why a held delivery waits (its `reason` until it is released). */
export const HELD_REASON = 'waiting: an earlier delivery of this resource to this subscription goes first';

/**
 * Whether the delivery `row` (an alias with `subscription_id`, `resource` and
 * `resource_version`) has to wait: the previous delivery of its resource to
 * its subscription (the highest lower version) is in flight — pending, or
 * retrying when the subscription orders strictly. Only the previous one is
 * looked at: it could not have started before its own previous one, so the
 * chain holds by induction. The fan-out asks it of new deliveries too.
 */
export const previousInFlight = (row: string): string => `EXISTS (
  SELECT 1 FROM (
    SELECT p.status FROM deliveries p
     WHERE p.subscription_id = ${row}.subscription_id AND p.resource = ${row}.resource AND p.resource_version < ${row}.resource_version
     ORDER BY p.resource_version DESC LIMIT 1) prev
   JOIN subscriptions s ON s.id = ${row}.subscription_id
  WHERE prev.status = 'pending' OR (s.ordering = 'strict' AND prev.status = 'retrying'))`;

const BLOCKED = previousInFlight('h');

/** A held delivery is parked without a time: nothing releases it but the end of what it waits for. */
const RELEASE = `UPDATE deliveries h SET next_attempt_at = now(), reason = NULL, updated_at = now()`;

/**
 * The per-resource order of deliveries across pods. A delivery whose previous
 * one (same subscription, same resource) is in flight is created *held*
 * (`parked`, no `next_attempt_at`) by the fan-out. Whoever ends the wait
 * releases it, making it a parked delivery due now, which the retry scheduler
 * enqueues: the pod that recorded the previous one's attempt, the pod that
 * created it (checking again after its commit, so a release that ran before
 * that commit is not lost), or, after a crash between the two, the sweep.
 */
@Injectable()
export class ResourceOrderRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Releases these held deliveries whose wait is over; returns how many. */
  async releaseIfUnblocked(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.release(`h.id = ANY($1) AND h.parked AND h.next_attempt_at IS NULL AND h.status = 'pending' AND NOT ${BLOCKED}`, [ids]);
  }

  /** Releases the next held delivery after each of these (whose attempts were just recorded), where its wait is over. */
  async releaseSuccessorsOf(deliveryIds: string[]): Promise<number> {
    if (deliveryIds.length === 0) return 0;
    return this.release(
      `h.id IN (
         SELECT n.id FROM deliveries d, LATERAL (
           SELECT x.id FROM deliveries x
            WHERE x.subscription_id = d.subscription_id AND x.resource = d.resource AND x.resource_version > d.resource_version
            ORDER BY x.resource_version LIMIT 1) n
          WHERE d.id = ANY($1) AND d.resource IS NOT NULL)
       AND h.parked AND h.next_attempt_at IS NULL AND h.status = 'pending' AND NOT ${BLOCKED}`,
      [deliveryIds],
    );
  }

  /**
   * The safety net: held deliveries not touched for `olderThanMs` whose wait is over (a releaser died).
   * The wait is tested before the limit: most held deliveries still wait behind another, and a limit
   * applied first could take only those, every time (soak seed 20261201 kept 2,946 held that way).
   */
  async releaseStranded(olderThanMs: number, limit: number): Promise<number> {
    return this.release(
      `h.id IN (
         SELECT c.id FROM deliveries c
          WHERE c.parked AND c.next_attempt_at IS NULL AND c.status = 'pending' AND c.updated_at < now() - $1 * interval '1 millisecond'
            AND NOT ${previousInFlight('c')}
          LIMIT $2)
       AND h.parked AND h.next_attempt_at IS NULL AND NOT ${BLOCKED}`,
      [olderThanMs, limit],
    );
  }

  /**
   * Locks the candidates in id order before updating them: releases run at once from several pods and
   * the sweep over overlapping rows, and an UPDATE locks in whatever order its plan scans, so two of
   * them deadlocked (soak seed 20261201, several times an hour under faults).
   */
  private async release(where: string, params: unknown[]): Promise<number> {
    const sql = `WITH locked AS (SELECT h.id FROM deliveries h WHERE ${where} ORDER BY h.id FOR UPDATE OF h) ${RELEASE} FROM locked WHERE h.id = locked.id RETURNING h.id`;
    return returnedRows<{ id: string }>(await this.dataSource.query(sql, params)).length;
  }
}
