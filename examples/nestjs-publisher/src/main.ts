import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { HookhubClient } from '@hookhub/sdk';
import { AppModule } from './app.module';
import { SETTINGS, type Settings } from './settings';
import { TicketsService } from './tickets.service';
import { WebhookReceiver } from './webhook-receiver';

/**
 * Subscribes a loopback receiver to `ticket.created`, opens a ticket (the
 * service publishes the event through HookhubModule), waits for the hub's
 * webhook, verifies it, prints one JSON line saying what arrived, and
 * removes the subscription again.
 */
async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const settings = app.get<Settings>(SETTINGS);
  const client = app.get(HookhubClient);
  // The secret is ours: the hub signs with it, the receiver verifies with it.
  const secret = settings.scheme === 'standard-webhooks' ? `whsec_${randomBytes(32).toString('base64')}` : randomBytes(24).toString('hex');
  const receiver = new WebhookReceiver(secret, settings.scheme);
  const url = await receiver.start();
  const { data: subscription } = await client.api.POST('/v1/subscriptions', {
    body: { url, event_types: ['ticket.created'], signature_scheme: settings.scheme, secret },
  });
  try {
    const ticketId = `t-${randomUUID()}`;
    const eventId = await app.get(TicketsService).open({ id: ticketId, subject: 'The printer is on fire', state: 'open' });
    const webhook = await receiver.waitFor(eventId, 20_000);
    console.log(
      JSON.stringify({
        verified: true,
        scheme: webhook.scheme,
        event_id: webhook.payload.id,
        event_type: webhook.payload.type,
        model_id: webhook.payload.model_id,
        delivery_id: webhook.deliveryId,
      }),
    );
  } finally {
    if (subscription) await client.api.DELETE('/v1/subscriptions/{id}', { params: { path: { id: subscription.id } } });
    await receiver.stop();
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
