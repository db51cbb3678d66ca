import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DeliveryLogRepository, EventLogRepository, FanOutRepository, RetryScheduleRepository, SubscriptionEntity } from '@hookhub/persistence';
import { subscriptionMatches } from './subscription-matcher';

/** Most events one replay call re-sends; a larger backlog is replayed in several calls. */
export const REPLAY_LIMIT = 10_000;

/**
 * Sends deliveries again on request: one delivery now (manual retry), or a
 * subscription's events since a time (replay), either all of them or only
 * those whose delivery failed. The deliveries are requeued in PostgreSQL and
 * the dispatchers pick them up like any due retry.
 */
@Injectable()
export class RedeliveryService {
  constructor(
    private readonly schedule: RetryScheduleRepository,
    private readonly deliveries: DeliveryLogRepository,
    private readonly fanOut: FanOutRepository,
    private readonly events: EventLogRepository,
  ) {}

  async retryNow(tenantId: string, deliveryId: string): Promise<boolean> {
    return (await this.schedule.requeue(tenantId, [deliveryId], 'manual retry')) === 1;
  }

  async replay(sub: SubscriptionEntity, since: Date, onlyFailed: boolean): Promise<number> {
    if (onlyFailed) {
      const ids = await this.deliveries.idsSince(sub.tenantId, sub.id, since, ['failed']);
      return this.schedule.requeue(sub.tenantId, ids.slice(0, REPLAY_LIMIT), 'replay of failed deliveries');
    }
    const events = await this.events.envelopesSince(sub.tenantId, since, REPLAY_LIMIT);
    const rows = events
      .filter((e) => subscriptionMatches(sub, e))
      .map((e) => ({ id: randomUUID(), tenantId: sub.tenantId, subscriptionId: sub.id, eventId: e.id, eventType: e.type }));
    const deliveries = await this.fanOut.ensureForEvents(rows);
    return this.schedule.requeue(
      sub.tenantId,
      deliveries.map((d) => d.id),
      'replay',
    );
  }
}
