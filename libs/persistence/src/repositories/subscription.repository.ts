import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { patternsMatchingEventType } from '@hookhub/contracts';
import { SubscriptionEntity, SubscriptionState } from '../entities/subscription.entity';
import { keysetPage, Page } from './keyset';
import { cancelWaitingRetries } from './retry-schedule.repository';

@Injectable()
export class SubscriptionRepository {
  constructor(@InjectRepository(SubscriptionEntity) private readonly repo: Repository<SubscriptionEntity>) {}

  create(input: Partial<SubscriptionEntity>): Promise<SubscriptionEntity> {
    return this.repo.save(this.repo.create(input));
  }

  findForTenant(tenantId: string, id: string): Promise<SubscriptionEntity | null> {
    return this.repo.findOneBy({ tenantId, id });
  }

  /**
   * Newest first; the cursor is the id of the last item of the previous page.
   * `eventType` keeps the subscriptions that receive that type (exactly, by its group's `.*`, or by `*`).
   * `blocked` is an active subscription whose key may not send, and `active` one whose key may: the rule
   * of delivery's `senderRefusal` (the key exists, is not revoked, is the tenant's and has the admin role).
   */
  listForTenant(
    tenantId: string,
    limit: number,
    cursor?: string,
    filter: { state?: SubscriptionState | 'blocked'; eventType?: string } = {},
  ): Promise<Page<SubscriptionEntity>> {
    const qb = this.repo.createQueryBuilder('s').where('s.tenant_id = :tenantId', { tenantId });
    if (filter.state) qb.andWhere('s.state = :state', { state: filter.state === 'blocked' ? 'active' : filter.state });
    if (filter.state === 'active' || filter.state === 'blocked') {
      const keyMaySend = `EXISTS (SELECT 1 FROM api_keys k WHERE k.id = s.created_by_key_id AND k.tenant_id = s.tenant_id
                            AND k.revoked_at IS NULL AND 'admin' = ANY(k.roles))`;
      qb.andWhere(filter.state === 'active' ? keyMaySend : `NOT ${keyMaySend}`);
    }
    if (filter.eventType) {
      qb.andWhere('s.event_types && :patterns', { patterns: patternsMatchingEventType(filter.eventType) });
    }
    return keysetPage(qb, { orderedBy: 'created_at', limit, cursor, cursorWithin: { column: 'tenant_id', value: tenantId } });
  }

  async save(sub: SubscriptionEntity): Promise<SubscriptionEntity> {
    return this.repo.save(sub);
  }

  /** Re-enables a subscription with a clean failure count. */
  async enable(tenantId: string, id: string, state: 'active' | 'pending_verification', reason: string | null): Promise<SubscriptionEntity | null> {
    await this.repo.update({ tenantId, id }, { state, stateReason: reason, consecutiveFailures: 0, failingSince: null, disabledAt: null });
    return this.findForTenant(tenantId, id);
  }

  /** Disables a subscription and cancels its waiting retries, in one transaction. */
  async disable(tenantId: string, id: string, reason: string): Promise<SubscriptionEntity | null> {
    return this.repo.manager.transaction(async (m) => {
      const result = await m.update(SubscriptionEntity, { tenantId, id }, { state: 'disabled', stateReason: reason, disabledAt: new Date() });
      if (!result.affected) return null;
      await cancelWaitingRetries(m, [id]);
      return m.findOneBy(SubscriptionEntity, { tenantId, id });
    });
  }

  /**
   * Deletes a subscription with its deliveries and their attempts: its
   * parked and waiting retries go with them, and a retry job already on the stream finds no
   * delivery and is dropped. An attempt in flight meanwhile is not recorded (see `recordAttempts`).
   */
  async deleteForTenant(tenantId: string, id: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.repo.manager.transaction(async (m) => {
          // The cascade would lock the deliveries in index order while an attempt batch locks them
          // in id order: taking them in id order first means the two wait for each other, never deadlock.
          // Attempts have no foreign key to their (partitioned) deliveries: they are deleted here, by
          // their partition key, and the deliveries by the subscription's foreign key.
          await m.query(
            `SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
              WHERE s.tenant_id = $1 AND s.id = $2 ORDER BY d.id FOR UPDATE OF d`,
            [tenantId, id],
          );
          // A statement of its own, after the lock: an attempt batch that held a delivery while the lock
          // waited has committed its attempts by now, and this statement's snapshot sees them (one
          // statement with the lock inside kept the snapshot from before the wait and left them behind).
          await m.query(
            `DELETE FROM delivery_attempts a USING deliveries d JOIN subscriptions s ON s.id = d.subscription_id
              WHERE s.tenant_id = $1 AND s.id = $2 AND a.delivery_id = d.id AND a.delivery_created_at = d.created_at`,
            [tenantId, id],
          );
          const result = await m.delete(SubscriptionEntity, { tenantId, id });
          return (result.affected ?? 0) > 0;
        });
      } catch (err) {
        // A delivery created by a fan-out after the lock can still cross an attempt batch: the deadlock
        // detector picks one side, and a delete that lost simply runs again.
        if ((err as { code?: unknown }).code !== '40P01' || attempt >= 3) throw err;
      }
    }
  }

  async findByIds(ids: string[]): Promise<Map<string, SubscriptionEntity>> {
    if (ids.length === 0) return new Map();
    const rows = await this.repo.createQueryBuilder('s').where('s.id = ANY(:ids)', { ids }).getMany();
    return new Map(rows.map((s) => [s.id, s]));
  }

  /**
   * Adds to each subscription's `filtered_count` the events its filter skipped: one statement for a
   * whole fan-out batch (or several batches gathered), never one per event. A subscription deleted
   * meanwhile is simply not found.
   */
  async addFilteredCounts(counts: ReadonlyMap<string, number>): Promise<void> {
    if (counts.size === 0) return;
    const ids = [...counts.keys()];
    await this.repo.query(
      `UPDATE subscriptions s SET filtered_count = s.filtered_count + u.n FROM unnest($1::uuid[], $2::bigint[]) AS u(id, n) WHERE s.id = u.id`,
      [ids, ids.map((id) => counts.get(id))],
    );
  }

  /** Active subscriptions of these tenants: the candidates of a fan-out. */
  async findActiveForTenants(tenantIds: string[]): Promise<SubscriptionEntity[]> {
    if (tenantIds.length === 0) return [];
    return this.repo.createQueryBuilder('s').where('s.tenant_id = ANY(:tenantIds)', { tenantIds }).andWhere("s.state = 'active'").getMany();
  }
}
