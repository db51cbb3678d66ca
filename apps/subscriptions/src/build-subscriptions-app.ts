import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHttpApp } from '@hookhub/platform';
import { BATCH_BODY_LIMIT } from './events/publish-event.dto';
import { setupOpenApi } from './openapi';
import { SubscriptionsAppModule } from './subscriptions-app.module';

/**
 * The subscriptions app exactly as it serves, not yet listening: main.ts and
 * the tests both build it here. `overrides` win over the environment.
 */
export async function buildSubscriptionsApp(overrides: Record<string, string | number | boolean> = {}): Promise<NestExpressApplication> {
  const app = await createHttpApp(SubscriptionsAppModule.forRoot(overrides), {
    requireJsonBodies: true,
    largerJsonBodies: { '/v1/events/batch': BATCH_BODY_LIMIT },
  });
  setupOpenApi(app);
  return app;
}
