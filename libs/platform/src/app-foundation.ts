import { DynamicModule, Type } from '@nestjs/common';
import { configModuleFor } from './config/config.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';

/**
 * The modules every app starts with: its configuration, validated at start-up
 * (`overrides` win over the environment), its logger, whose lines carry
 * `service`, and the health endpoints. Each app adds what it runs on.
 */
export function appFoundation<T extends object>(
  service: string,
  schema: new () => T,
  overrides: Record<string, string | number | boolean> = {},
): Array<Promise<DynamicModule> | DynamicModule | Type<unknown>> {
  return [configModuleFor(schema, overrides), LoggingModule.forRoot({ service }), HealthModule];
}
