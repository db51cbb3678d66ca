import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHttpApp } from '@hookhub/platform';
import { BATCH_BODY_LIMIT } from './events/publish-event.dto';
import { setupOpenApi } from './openapi';
import { servePortal } from './portal/serve-portal';
import { SubscriptionsAppModule } from './subscriptions-app.module';

/**
 * The subscriptions app exactly as it serves, not yet listening: main.ts and
 * the tests both build it here. `overrides` win over the environment.
 */
export async function buildSubscriptionsApp(overrides: Record<string, string | number | boolean> = {}): Promise<NestExpressApplication> {
  const app = await createHttpApp(SubscriptionsAppModule.forRoot(overrides), {
    requireJsonBodies: true,
    largerJsonBodies: { '/v1/events/batch': BATCH_BODY_LIMIT },
    // Publishing starts an event's trace, or continues the publisher's (docs/tracing.md).
    tracedRoutes: [
      { method: 'POST', path: '/v1/events', route: '/v1/events' },
      { method: 'POST', path: '/v1/events/batch', route: '/v1/events/batch' },
    ],
  });
  setupOpenApi(app);
  servePortal(app);
  return app;
}
