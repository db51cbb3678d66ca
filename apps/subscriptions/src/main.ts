import { ConfigService } from '@nestjs/config';
import { createHttpApp } from '@hookhub/platform';
import { setupOpenApi } from './openapi';
import { SubscriptionsAppModule } from './subscriptions-app.module';
import type { SubscriptionsConfig } from './subscriptions.config';

async function main(): Promise<void> {
  process.env.HOOKHUB_SERVICE ??= 'subscriptions';
  const app = await createHttpApp(SubscriptionsAppModule.forRoot(), { requireJsonBodies: true });
  setupOpenApi(app);
  const config = app.get<ConfigService<SubscriptionsConfig, true>>(ConfigService);
  await app.listen(config.get('SUBSCRIPTIONS_PORT', { infer: true }), '0.0.0.0');
}

void main();
