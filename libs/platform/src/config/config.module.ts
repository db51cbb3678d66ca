import { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { validateConfig } from './validate-config';

/**
 * The app's configuration from environment variables, validated at start-up.
 * `overrides` win over the environment; tests use them to give each run its
 * own database and stream names without touching `process.env`.
 *
 * Validated here and handed to ConfigModule as loaded configuration, not
 * through its `validate` option: that one copies every validated value into
 * `process.env`, so an override of one app (`TRUST_PROXY: true` in a test)
 * became the environment of the next app started in the same process, and
 * `ConfigService.get` then fell back to those strings for any key not loaded.
 */
export async function configModuleFor<T extends object>(
  schema: new () => T,
  overrides: Record<string, string | number | boolean> = {},
): Promise<DynamicModule> {
  const config = validateConfig(schema, { ...process.env, ...overrides });
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: true,
    validatePredefined: false,
    skipProcessEnv: true,
    cache: true,
    load: [() => ({ ...config })],
  });
}
