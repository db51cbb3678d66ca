import { accessSync, constants } from 'node:fs';
import { ValidateIf } from 'class-validator';
import { isIP } from 'node:net';
import { EnvBoolean, EnvInteger, EnvOneOf, EnvString } from './env-decorators';

/** An IP address or a host name: what `listen()` binds to. */
const isHost = (value: string): boolean => isIP(value) !== 0 || /^[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$/i.test(value);

/** A file this process can read now, so a wrong path stops the app at start-up with the variable's name. */
function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

const READABLE_FILE = 'the path of a readable file';

/** An OTLP collector's URL: http(s), a host, an optional path. */
const OTLP_URL = /^https?:\/\/[^\s/]+(\/\S*)?$/;
/** The OTEL_* list format: `key=value` pairs separated by commas (values percent-encoded). */
const KEY_VALUE_LIST = /^\s*[^\s=,]+\s*=[^,]*(,\s*[^\s=,]+\s*=[^,]*)*$/;

/**
 * Settings every Hookhub app shares: where NATS and PostgreSQL are and how streams are named.
 * Every variable carries exactly one `Env*` decorator (see env-decorators.ts); the config spec
 * fails for a variable without one.
 */
export class BaseConfig {
  @EnvString({ accepts: 'a nats:// URL (comma-separate several servers)', pattern: /^(nats|tls|ws|wss):\/\/.+/ })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  // NATS credentials: at most one way to authenticate (user and password, a token, or a .creds file), TLS files on their own.
  @EnvString({ accepts: 'a NATS user name', optional: true, requires: 'NATS_PASSWORD', excludes: ['NATS_TOKEN', 'NATS_CREDS_FILE'] })
  NATS_USER?: string;

  @EnvString({ accepts: 'the password of NATS_USER', optional: true, requires: 'NATS_USER' })
  NATS_PASSWORD?: string;

  @EnvString({ accepts: 'a NATS authentication token', optional: true, excludes: ['NATS_CREDS_FILE'] })
  NATS_TOKEN?: string;

  /** A decentralised-auth credentials file (JWT and NKey seed), as `nsc` writes it. */
  @EnvString({ accepts: READABLE_FILE, optional: true, check: readable })
  NATS_CREDS_FILE?: string;

  /** CA certificate (PEM) that signs the NATS server's certificate, when it is not a public CA. */
  @EnvString({ accepts: READABLE_FILE, optional: true, check: readable })
  NATS_TLS_CA_FILE?: string;

  /** Client certificate (PEM) for servers that verify clients (`verify: true`); needs NATS_TLS_KEY_FILE. */
  @EnvString({ accepts: READABLE_FILE, optional: true, check: readable, requires: 'NATS_TLS_KEY_FILE' })
  NATS_TLS_CERT_FILE?: string;

  @EnvString({ accepts: READABLE_FILE, optional: true, check: readable, requires: 'NATS_TLS_CERT_FILE' })
  NATS_TLS_KEY_FILE?: string;

  @EnvString({ accepts: 'a postgres:// URL', pattern: /^postgres(ql)?:\/\/.+/ })
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/hookhub';

  @EnvInteger({ min: 1, max: 100 })
  DATABASE_POOL_SIZE: number = 10;

  /**
   * Connections opened at start-up and kept open when idle (at most the pool size): a cold pod's
   * first events would otherwise wait for PostgreSQL to start a backend per connection.
   */
  @EnvInteger({ min: 0, max: 100 })
  DATABASE_POOL_MIN: number = 4;

  /**
   * PostgreSQL ends a session left idle inside a transaction this long (0: the server's setting), so a
   * pod frozen mid-batch (SIGSTOP, a stalled VM) releases its row locks and other pods go on.
   */
  @EnvInteger({ min: 0, max: 3_600_000, unit: 'ms' })
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: number = 10_000;

  /** A statement waiting this long for a lock fails (0: the server's setting); its batch is redelivered. */
  @EnvInteger({ min: 0, max: 3_600_000, unit: 'ms' })
  DATABASE_LOCK_TIMEOUT_MS: number = 5_000;

  /** A statement running this long is cancelled (0: the server's setting). Migrations run without it. */
  @EnvInteger({ min: 0, max: 3_600_000, unit: 'ms' })
  DATABASE_STATEMENT_TIMEOUT_MS: number = 30_000;

  /** Prefix of every stream and subject name, so several hubs (or test runs) can share one NATS server. */
  @EnvString({ accepts: 'lowercase letters, digits or _ (a letter first, at most 32)', pattern: /^[a-z][a-z0-9_]{0,31}$/ })
  JETSTREAM_PREFIX: string = 'hookhub';

  @EnvInteger({ min: 1, max: 5 })
  JETSTREAM_REPLICAS: number = 1;

  /** How long JetStream remembers a Nats-Msg-Id to de-duplicate a re-published event. */
  @EnvInteger({ min: 1_000, unit: 'ms' })
  JETSTREAM_DUPLICATE_WINDOW_MS: number = 10 * 60_000;

  /** How long events stay in the stream (replay beyond this uses the PostgreSQL event log). */
  @EnvInteger({ min: 60_000, unit: 'ms' })
  JETSTREAM_MAX_AGE_MS: number = 7 * 24 * 3_600_000;

  /** 32 bytes (64 hex or 44 base64 characters) that encrypt signing secrets at rest. */
  @EnvString({ accepts: '32 bytes as 64 hex or 44 base64 characters', pattern: /^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/ })
  SECRETS_ENCRYPTION_KEY: string;

  /**
   * Development only: lets subscriptions target http:// and loopback URLs
   * (local receivers, tests). Off by default; never enable in production.
   */
  @EnvBoolean()
  ALLOW_INSECURE_WEBHOOK_TARGETS: boolean = false;

  @EnvInteger({ min: 100, max: 60_000, unit: 'ms' })
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  @EnvOneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  @EnvBoolean()
  LOG_PRETTY: boolean = false;

  /** `stdout`, or a file the logs are appended to (the tests give each test file its own). */
  @EnvString({ accepts: 'stdout or a file path' })
  LOG_DESTINATION: string = 'stdout';

  @EnvInteger({ min: 0, max: 300_000, unit: 'ms' })
  SHUTDOWN_GRACE_MS: number = 15_000;

  /**
   * The address the HTTP server binds to (the API, provider callbacks, the dispatcher's health and metrics).
   * All interfaces by default, as a container needs; .env.development binds to loopback only.
   */
  @EnvString({ accepts: 'an IP address or a host name (0.0.0.0, 127.0.0.1, ::, localhost)', check: isHost })
  HOST: string = '0.0.0.0';

  /**
   * How long start-up waits for NATS and PostgreSQL to answer before the app exits with one line naming
   * the one that is missing. Bounded so that a wrong URL fails at once instead of hanging; orchestrators
   * restart the app anyway.
   */
  @EnvInteger({ min: 0, max: 600_000, unit: 'ms' })
  STARTUP_WAIT_MS: number = 10_000;

  // Storage (see docs/storage.md): the event log, the delivery log and provider callbacks are kept in
  // daily partitions and expire by the day. Every app keeps the partitions ahead of time; the
  // dispatcher runs expiry.
  /** Days an event stays in the event log (snapshots, the current state, never expire). */
  @EnvInteger({ min: 1, max: 3_650 })
  EVENTS_RETENTION_DAYS: number = 30;

  /** Days deliveries and their attempts stay in the delivery log. */
  @EnvInteger({ min: 1, max: 3_650 })
  DELIVERIES_RETENTION_DAYS: number = 30;

  /** Days a stored provider callback is kept. */
  @EnvInteger({ min: 1, max: 3_650 })
  CALLBACKS_RETENTION_DAYS: number = 14;

  /** Day partitions created ahead of today, so an insert never finds its partition missing. */
  @EnvInteger({ min: 1, max: 60 })
  PARTITIONS_AHEAD_DAYS: number = 7;

  /**
   * How often each process looks for event types defined or changed elsewhere (one indexed read). An unknown
   * type or version is looked up at once, so a type is usable everywhere as soon as its creation is answered.
   */
  @EnvInteger({ min: 100, max: 600_000, unit: 'ms' })
  EVENT_TYPES_REFRESH_MS: number = 2_000;

  /** How often partitions are created ahead and (in the dispatcher) expired ones removed. */
  @EnvInteger({ min: 1_000, max: 86_400_000, unit: 'ms' })
  RETENTION_INTERVAL_MS: number = 3_600_000;

  /** Rows one statement deletes for a tenant whose retention is shorter than the deployment's. */
  @EnvInteger({ min: 1, max: 100_000 })
  RETENTION_DELETE_BATCH: number = 5_000;

  /** Such statements per table and tenant in one retention run; the next run goes on. */
  @EnvInteger({ min: 1, max: 10_000 })
  RETENTION_DELETE_BATCHES_PER_RUN: number = 20;

  // Archive before expiry (optional): each expiring partition is exported as gzipped NDJSON with a
  // manifest and verified before it is dropped. Variables of a target not chosen may stay unset; a
  // variable that is set is checked whatever the target, so a typo never waits for the day the target changes.
  /** `none` drops expired partitions without a copy. */
  @EnvOneOf(['none', 'directory', 's3'])
  ARCHIVE_TARGET: 'none' | 'directory' | 's3' = 'none';

  @ValidateIf((c: BaseConfig) => c.ARCHIVE_TARGET === 'directory' || c.ARCHIVE_DIR !== undefined)
  @EnvString({ accepts: 'an absolute directory path (required when ARCHIVE_TARGET=directory)', pattern: /^\/./ })
  ARCHIVE_DIR?: string;

  @ValidateIf((c: BaseConfig) => c.ARCHIVE_TARGET === 's3' || c.ARCHIVE_S3_BUCKET !== undefined)
  @EnvString({ accepts: 'an S3 bucket name (required when ARCHIVE_TARGET=s3)', pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/ })
  ARCHIVE_S3_BUCKET?: string;

  /** Key prefix inside the bucket: `<prefix>/<YYYY>/<MM>/<DD>/<table>.ndjson.gz`. */
  @EnvString({
    accepts: 'a key prefix of letters, digits, . _ - separated by single slashes, without a leading or trailing slash',
    pattern: /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/,
  })
  ARCHIVE_S3_PREFIX: string = 'hookhub';

  /** An S3-compatible service's URL; unset: AWS S3. Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID, …). */
  @ValidateIf((c: BaseConfig) => c.ARCHIVE_S3_ENDPOINT !== undefined)
  @EnvString({ accepts: 'an http:// or https:// URL', pattern: /^https?:\/\/[^\s/]+(\/\S*)?$/ })
  ARCHIVE_S3_ENDPOINT?: string;

  /** Unset: the AWS SDK's own chain (AWS_REGION, the shared config file). */
  @ValidateIf((c: BaseConfig) => c.ARCHIVE_S3_REGION !== undefined)
  @EnvString({ accepts: 'a region name such as eu-west-1', pattern: /^[a-z0-9-]{1,64}$/ })
  ARCHIVE_S3_REGION?: string;

  /** Path-style URLs (`endpoint/bucket/key`), which most self-hosted S3-compatible services need. */
  @EnvBoolean()
  ARCHIVE_S3_FORCE_PATH_STYLE: boolean = false;

  // Tracing (OpenTelemetry, docs/tracing.md): the standard OTEL_* variables, read by the SDK itself. Off unless
  // an exporter or an OTLP endpoint is named (see tracingWanted). Checked here so that a typo stops the app at
  // start-up instead of leaving it without traces (the SDK would log a warning nobody reads and fall back).
  /** `true` turns tracing off whatever else is set. */
  @EnvBoolean()
  OTEL_SDK_DISABLED: boolean = false;

  /** `otlp` (or an endpoint below) turns tracing on; `console` prints spans to stdout; `none` keeps it off. */
  @EnvString({ accepts: 'one of otlp, console, none', pattern: /^(otlp|console|none)$/, optional: true })
  OTEL_TRACES_EXPORTER?: string;

  /** The collector's base URL; traces go to `<endpoint>/v1/traces` (OTLP/HTTP). Setting it turns tracing on. */
  @EnvString({ accepts: 'an http:// or https:// URL', pattern: OTLP_URL, optional: true })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** The full URL for traces, used as given (wins over OTEL_EXPORTER_OTLP_ENDPOINT). Setting it turns tracing on. */
  @EnvString({ accepts: 'an http:// or https:// URL', pattern: OTLP_URL, optional: true })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  @EnvOneOf(['http/protobuf', 'http/json', 'grpc'])
  OTEL_EXPORTER_OTLP_PROTOCOL: string = 'http/protobuf';

  /** Headers of every export request (`api-key=…` for a hosted collector): credentials, never echoed. */
  @EnvString({ accepts: 'a comma-separated list of key=value pairs', pattern: KEY_VALUE_LIST, optional: true })
  OTEL_EXPORTER_OTLP_HEADERS?: string;

  @EnvInteger({ min: 1, max: 600_000, unit: 'ms' })
  OTEL_EXPORTER_OTLP_TIMEOUT: number = 10_000;

  @EnvOneOf(['none', 'gzip'])
  OTEL_EXPORTER_OTLP_COMPRESSION: string = 'none';

  /** `service.name` of the spans; unset: hookhub-subscriptions, hookhub-dispatcher or hookhub-provider-ingest. */
  @EnvString({ accepts: 'a service name of at most 255 characters', pattern: /^\S.{0,254}$/, optional: true })
  OTEL_SERVICE_NAME?: string;

  /** More resource attributes (`deployment.environment.name=prod,service.namespace=support`). */
  @EnvString({ accepts: 'a comma-separated list of key=value pairs', pattern: KEY_VALUE_LIST, optional: true })
  OTEL_RESOURCE_ATTRIBUTES?: string;

  /** The default follows the publisher's sampling decision (its traceparent's flag) and samples everything else. */
  @EnvOneOf(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
  OTEL_TRACES_SAMPLER: string = 'parentbased_always_on';

  /** The ratio of the `traceidratio` samplers, from 0 to 1 (unset: 1). */
  @EnvString({ accepts: 'a decimal number from 0 to 1 (0.25)', pattern: /^(0(\.\d{1,6})?|1(\.0{1,6})?)$/, optional: true })
  OTEL_TRACES_SAMPLER_ARG?: string;

  /** The batch span processor: how long spans wait to be exported together. */
  @EnvInteger({ min: 1, max: 600_000, unit: 'ms' })
  OTEL_BSP_SCHEDULE_DELAY: number = 5_000;

  @EnvInteger({ min: 1, max: 600_000, unit: 'ms' })
  OTEL_BSP_EXPORT_TIMEOUT: number = 30_000;

  /** Spans kept while the collector is slow or away; beyond it new spans are dropped (the app goes on). */
  @EnvInteger({ min: 1, max: 1_000_000 })
  OTEL_BSP_MAX_QUEUE_SIZE: number = 2_048;

  @EnvInteger({ min: 1, max: 1_000_000 })
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: number = 512;

  /** The SDK's own diagnostics (a failing export), printed on the console; unset: none. */
  @EnvString({ accepts: 'one of NONE, ERROR, WARN, INFO, DEBUG, VERBOSE, ALL', pattern: /^(NONE|ERROR|WARN|INFO|DEBUG|VERBOSE|ALL)$/i, optional: true })
  OTEL_LOG_LEVEL?: string;
}
