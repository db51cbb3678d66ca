import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

type ConfigClass<T extends object> = new () => T;

/** The configuration refused at start-up: one problem per bad variable, each naming it and what it accepts. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/**
 * Turns the raw environment into a typed, validated configuration object and
 * refuses to start with one line per bad variable, so a misconfigured pod
 * fails at boot rather than on its first request.
 *
 * No implicit conversion: it would turn "false" into `true` (`Boolean("false")`)
 * and "1e3" into 1000 before any check ran. Each variable's `Env*` decorator
 * parses its own string strictly instead.
 */
export function validateConfig<T extends object>(schema: ConfigClass<T>, raw: Record<string, unknown>): T {
  const config = plainToInstance(schema, raw, { enableImplicitConversion: false, exposeDefaultValues: true });
  const errors = validateSync(config, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    throw new ConfigurationError(errors.map((e) => Object.values(e.constraints ?? {}).join('; ')));
  }
  return config;
}
