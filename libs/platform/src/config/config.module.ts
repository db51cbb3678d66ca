import { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { validateConfig } from './validate-config';

/**
 * The app's configuration from environment variables, validated at start-up.
 * `overrides` win over the environment; tests use them to give each run its
 * own database and stream names without touching `process.env`.
 */
export function configModuleFor<T extends object>(
  schema: new () => T,
  overrides: Record<string, string | number | boolean> = {},
): Promise<DynamicModule> {
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: true,
    cache: true,
    validate: (env) => validateConfig(schema, { ...env, ...overrides }),
  });
}
