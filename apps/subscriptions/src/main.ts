import { ConfigService } from '@nestjs/config';
import { buildSubscriptionsApp } from './build-subscriptions-app';
import type { SubscriptionsConfig } from './subscriptions.config';

async function main(): Promise<void> {
  const app = await buildSubscriptionsApp();
  const config = app.get<ConfigService<SubscriptionsConfig, true>>(ConfigService);
  await app.listen(config.get('SUBSCRIPTIONS_PORT', { infer: true }), '0.0.0.0');
}

void main();
