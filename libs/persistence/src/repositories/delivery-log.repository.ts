import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DeliveryAttemptEntity } from '../entities/delivery-attempt.entity';
import { DeliveryEntity, DeliveryStatus } from '../entities/delivery.entity';
import { keysetPage, Page } from './keyset';

/** What was delivered and how: the deliveries and attempts the admin API shows, and what a replay picks. */
@Injectable()
export class DeliveryLogRepository {
  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectRepository(DeliveryAttemptEntity) private readonly attempts: Repository<DeliveryAttemptEntity>,
  ) {}

  findForTenant(tenantId: string, id: string): Promise<DeliveryEntity | null> {
    return this.deliveries.findOneBy({ tenantId, id });
  }

  /** Newest first; the cursor is the id of the last delivery of the previous page. */
  pageForSubscription(
    tenantId: string,
    subscriptionId: string,
    filter: { status?: DeliveryStatus; eventType?: string; since?: Date; until?: Date; limit: number; cursor?: string },
  ): Promise<Page<DeliveryEntity>> {
    const qb = this.deliveries.createQueryBuilder('d').where('d.tenant_id = :tenantId AND d.subscription_id = :subscriptionId', { tenantId, subscriptionId });
    if (filter.status) qb.andWhere('d.status = :status', { status: filter.status });
    if (filter.eventType) qb.andWhere('d.event_type = :eventType', { eventType: filter.eventType });
    if (filter.since) qb.andWhere('d.created_at >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('d.created_at < :until', { until: filter.until });
    return keysetPage(qb, { orderedBy: 'created_at', limit: filter.limit, cursor: filter.cursor, cursorWithin: { column: 'tenant_id', value: tenantId } });
  }

  listAttempts(deliveryId: string): Promise<DeliveryAttemptEntity[]> {
    return this.attempts.find({ where: { deliveryId }, order: { attempt: 'ASC', startedAt: 'ASC' } });
  }

  /** Ids of a subscription's deliveries in these states created since a time, oldest first. */
  async idsSince(tenantId: string, subscriptionId: string, since: Date, statuses: DeliveryStatus[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.deliveries.manager.query(
      `SELECT id FROM deliveries WHERE tenant_id = $1 AND subscription_id = $2 AND created_at >= $3 AND status = ANY($4) ORDER BY created_at, id`,
      [tenantId, subscriptionId, since, statuses],
    );
    return rows.map((r) => r.id);
  }
}
