// What every app wires: the HTTP bootstrap, configuration, logging, health and metrics.
export { createHttpApp, type HttpAppOptions } from './bootstrap';
export { appFoundation } from './app-foundation';
export { LoggingModule, type LoggingOptions } from './logging/logging.module';
// The app's pino logger, for a lib that logs on a hot path and checks the level first (isLevelEnabled).
export { PinoLogger } from 'nestjs-pino';
export { HealthModule } from './health/health.module';
export { MetricsModule, MetricsRegistry } from './metrics/metrics.module';
// Configuration classes: the apps' and libs' settings extend BaseConfig and declare their variables with the Env decorators.
export { BaseConfig } from './config/base-config';
export { EnvBoolean, EnvInteger, EnvString, toDecimalInteger, type EnvIntegerOptions, type EnvStringOptions } from './config/env-decorators';
// Readiness: jetstream and persistence register their checks.
export { ReadinessRegistry, type ReadinessCheck, type ReadinessReport } from './health/readiness';
// Problem documents (RFC 9457): the apps' services, controllers and guards throw them; the Meta adapter answers with one.
export {
  PROBLEM_CONTENT_TYPE,
  problemDocument,
  ProblemException,
  Problems,
  type ProblemDocument,
  type ProblemFieldError,
  type ProblemOptions,
} from './problems/problem';
// The validation every app's routes get, for bodies validated piece by piece (a batch's events).
export { createValidationPipe } from './problems/validation';
// For the configuration tests: the variables a config class declares, and its validation.
export { ENV_FALSE_WORDS, ENV_TRUE_WORDS, envVariablesOf, type EnvSpec } from './config/env-decorators';
export { ConfigurationError, validateConfig } from './config/validate-config';
// Start-up: main.ts runs its app with runApp; a lib throws StartupError for a failure its message explains in full.
export { runApp, STARTUP_FAILED, type AppLaunch } from './startup/run-app';
export { StartupError } from './startup/startup-error';
