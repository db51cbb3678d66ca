import { Injectable, Logger } from '@nestjs/common';
import { EventPublisher } from '@hookhub/jetstream';
import { DisabledSubscription, TenantRepository } from '@hookhub/persistence';
import { DeliveryMetrics } from './delivery-metrics';

/**
 * Tells a tenant's admins that a subscription was switched off: a
 * `webhook.disabled` event, delivered like any other to the subscriptions
 * that ask for it. Its id is derived from the subscription and the moment,
 * so a retried notice is stored once.
 */
@Injectable()
export class DisableNotifier {
  private readonly logger = new Logger(DisableNotifier.name);

  constructor(
    private readonly publisher: EventPublisher,
    private readonly metrics: DeliveryMetrics,
    private readonly tenants: TenantRepository,
  ) {}

  async notify(subscriptions: DisabledSubscription[]): Promise<void> {
    for (const s of subscriptions) {
      const now = new Date().toISOString();
      this.metrics.disabled.inc();
      this.logger.warn({ subscriptionId: s.id, tenantId: s.tenantId, reason: s.reason }, 'subscription disabled');
      await this.publisher.publish({
        id: `webhook-disabled-${s.id}-${Date.parse(now)}`,
        account_id: s.tenantId,
        account_url: await this.tenants.accountUrl(s.tenantId),
        created_at: now,
        type: 'webhook.disabled',
        data: { subscription_id: s.id, reason: s.reason, consecutive_failures: s.consecutiveFailures, last_error: s.lastError },
        actor_type: 'system',
        actor_id: null,
        actor_name: 'Hookhub',
        model_type: 'subscription',
        model_id: s.id,
        model: { id: s.id, url: s.url, state: s.state, state_reason: s.reason, event_types: s.eventTypes },
      });
    }
  }
}
