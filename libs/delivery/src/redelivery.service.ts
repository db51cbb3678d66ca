import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { compileSubscriptionFilter } from '@hookhub/contracts';
import { DeliveryLogRepository, EventLogRepository, FanOutRepository, RetryScheduleRepository, SubscriptionEntity } from '@hookhub/persistence';
import { subscriptionMatches } from './subscription-matcher';

/** Most events one replay call re-sends; a larger backlog is replayed in several calls. */
export const REPLAY_LIMIT = 10_000;
/** Envelopes read at a time when a replay's payload filter tests them: memory stays bounded whatever the events' size. */
const FILTER_PAGE = 200;

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

  /**
   * Replaying all events applies the subscription's payload filter as it is now, as a fan-out would: an
   * event it keeps out gets no delivery (nor a count in `filtered_count`, which counts live events only).
   * Replaying only the failed deliveries sends those again as they are: each passed the filter of its time.
   */
  async replay(sub: SubscriptionEntity, since: Date, onlyFailed: boolean): Promise<number> {
    if (onlyFailed) {
      const ids = await this.deliveries.idsSince(sub.tenantId, sub.id, since, ['failed']);
      return this.schedule.requeue(sub.tenantId, ids.slice(0, REPLAY_LIMIT), 'replay of failed deliveries');
    }
    const listed = await this.events.envelopesSince(sub.tenantId, since, REPLAY_LIMIT);
    const matching = await this.passingFilter(
      sub,
      since,
      listed.filter((e) => subscriptionMatches(sub, e)),
    );
    const rows = matching.map((e) => ({ id: randomUUID(), tenantId: sub.tenantId, subscriptionId: sub.id, eventId: e.id, eventType: e.type }));
    const deliveries = await this.fanOut.ensureForEvents(rows);
    return this.schedule.requeue(
      sub.tenantId,
      deliveries.map((d) => d.id),
      'replay',
    );
  }

  /** The events whose envelope passes the subscription's filter (all of them without one), in their order. */
  private async passingFilter<E extends { id: string }>(sub: SubscriptionEntity, since: Date, events: E[]): Promise<E[]> {
    if (!sub.filter) return events;
    // Compiled once for the whole replay; stored filters were checked when written, so this does not throw.
    const test = compileSubscriptionFilter(sub.filter);
    const kept: E[] = [];
    for (let i = 0; i < events.length; i += FILTER_PAGE) {
      const page = events.slice(i, i + FILTER_PAGE);
      const envelopes = await this.events.envelopesByIds(
        sub.tenantId,
        page.map((e) => e.id),
        since,
      );
      for (const e of page) {
        const envelope = envelopes.get(e.id);
        if (envelope && test(envelope)) kept.push(e);
      }
    }
    return kept;
  }
}
