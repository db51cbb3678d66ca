import { randomUUID } from 'node:crypto';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { serializeEnvelope } from '@hookhub/contracts';
import { SubscriptionEntity, TenantRepository } from '@hookhub/persistence';
import { WebhookRequestBuilder } from './webhook-request';
import { WebhookSenderFactory } from './webhook-client.module';
import { SendResult, WebhookSender } from './webhook-sender';

/**
 * Sends one signed `webhook.test` event to a subscription's endpoint right
 * away and reports what happened; nothing is retried or recorded as a delivery.
 */
@Injectable()
export class TestPing implements OnApplicationShutdown {
  private readonly sender: WebhookSender;

  constructor(
    senders: WebhookSenderFactory,
    private readonly requests: WebhookRequestBuilder,
    private readonly tenants: TenantRepository,
  ) {
    this.sender = senders.create({ connections: 16 });
  }

  async ping(sub: SubscriptionEntity): Promise<SendResult> {
    const deliveryId = randomUUID();
    const body = serializeEnvelope({
      id: `test-${deliveryId}`,
      account_id: sub.tenantId,
      account_url: await this.tenants.accountUrl(sub.tenantId),
      created_at: new Date().toISOString(),
      type: 'webhook.test',
      data: { message: 'This is a test event from Hookhub.' },
      actor_type: 'system',
      actor_id: null,
      actor_name: 'Hookhub',
      model_type: 'subscription',
      model_id: sub.id,
      model: { id: sub.id, url: sub.url, state: sub.state, event_types: sub.eventTypes },
    });
    const headers = this.requests.headers({ subscription: sub, eventType: 'webhook.test', deliveryId, attempt: 1, schemaVersion: 1, body });
    return this.sender.send({ url: sub.url, headers, body });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
