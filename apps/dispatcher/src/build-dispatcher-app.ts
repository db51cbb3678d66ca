import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHttpApp } from '@hookhub/platform';
import { DispatcherAppModule } from './dispatcher-app.module';

/**
 * The dispatcher exactly as it runs, not yet listening: main.ts and the tests
 * both build it here. `overrides` win over the environment.
 */
export function buildDispatcherApp(overrides: Record<string, string | number | boolean> = {}): Promise<NestExpressApplication> {
  return createHttpApp(DispatcherAppModule.forRoot(overrides));
}
