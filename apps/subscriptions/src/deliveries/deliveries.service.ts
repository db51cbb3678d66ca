import { Injectable } from '@nestjs/common';
import { RedeliveryService, sentRequestHeaders } from '@hookhub/delivery';
import { DeliveryAttemptEntity, DeliveryEntity, DeliveryLogRepository, DeliveryStatus, EventLogRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import type { Principal } from '../auth/principal';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventType?: string;
  since?: Date;
  until?: Date;
  limit: number;
  cursor?: string;
}

/** The delivery log of a tenant's subscriptions, and sending a delivery again. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly deliveries: DeliveryLogRepository,
    private readonly subscriptions: SubscriptionsService,
    private readonly redelivery: RedeliveryService,
    private readonly events: EventLogRepository,
  ) {}

  async pageForSubscription(
    principal: Principal,
    subscriptionId: string,
    filter: DeliveryFilter,
  ): Promise<{ items: DeliveryEntity[]; nextCursor: string | null }> {
    await this.subscriptions.get(principal, subscriptionId);
    return this.deliveries.pageForSubscription(principal.tenantId, subscriptionId, filter);
  }

  async get(principal: Principal, id: string): Promise<DeliveryEntity> {
    const delivery = await this.deliveries.findForTenant(principal.tenantId, id);
    if (!delivery) throw Problems.notFound('Delivery');
    return delivery;
  }

  /** A delivery with its attempts, each with the request headers it sent (the log stores only each attempt's own). */
  async withAttempts(principal: Principal, id: string): Promise<{ delivery: DeliveryEntity; attempts: DeliveryAttemptEntity[] }> {
    const delivery = await this.get(principal, id);
    const [attempts, schemaVersion] = await Promise.all([this.deliveries.listAttempts(id), this.events.schemaVersion(principal.tenantId, delivery.eventId)]);
    for (const a of attempts) {
      a.requestHeaders = sentRequestHeaders(
        {
          eventType: delivery.eventType,
          deliveryId: delivery.id,
          subscriptionId: delivery.subscriptionId,
          attempt: a.attempt,
          resourceVersion: delivery.resourceVersion,
          schemaVersion,
        },
        a.requestHeaders,
      );
    }
    return { delivery, attempts };
  }

  /** Queues the delivery to be sent within a second, whatever its state, if its subscription is active. */
  async retryNow(principal: Principal, id: string): Promise<DeliveryEntity> {
    const delivery = await this.get(principal, id);
    const sub = await this.subscriptions.get(principal, delivery.subscriptionId);
    this.subscriptions.assertSending(await this.subscriptions.view(sub), 'retrying');
    await this.redelivery.retryNow(principal.tenantId, id);
    return (await this.deliveries.findForTenant(principal.tenantId, id))!;
  }
}
