import 'reflect-metadata';
import { getMetadataStorage } from 'class-validator';
import { DispatcherConfig } from './dispatcher/src/dispatcher.config';
import { ProviderIngestConfig } from './provider-ingest/src/provider-ingest.config';
import { SubscriptionsConfig } from './subscriptions/src/subscriptions.config';
import { ENV_FALSE_WORDS, ENV_TRUE_WORDS, EnvSpec, envVariablesOf, validateConfig } from '@hookhub/platform';

/**
 * Every variable of every app's configuration class, table-driven. Boolean and
 * integer cases are derived from each variable's own decorator, so a variable
 * added with `@EnvBoolean()` or `@EnvInteger({ min, max })` is covered without
 * touching this file; a variable without an `Env*` decorator, without an entry
 * in DEFAULTS, or a string variable without STRING_CASES fails the coverage tests.
 */

type ConfigClass = new () => object;
const APPS: ReadonlyArray<[string, ConfigClass]> = [
  ['dispatcher', DispatcherConfig],
  ['subscriptions', SubscriptionsConfig],
  ['provider-ingest', ProviderIngestConfig],
];

const REQUIRED = Symbol('required');

/** Every variable's default, as the README's configuration table states it. A new variable needs its entry here. */
const DEFAULTS: Record<string, unknown> = {
  NATS_URL: 'nats://127.0.0.1:4222',
  NATS_USER: undefined,
  NATS_PASSWORD: undefined,
  NATS_TOKEN: undefined,
  NATS_CREDS_FILE: undefined,
  NATS_TLS_CA_FILE: undefined,
  NATS_TLS_CERT_FILE: undefined,
  NATS_TLS_KEY_FILE: undefined,
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/hookhub',
  DATABASE_POOL_SIZE: 10,
  DATABASE_POOL_MIN: 4,
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 10_000,
  DATABASE_LOCK_TIMEOUT_MS: 5_000,
  DATABASE_STATEMENT_TIMEOUT_MS: 30_000,
  JETSTREAM_PREFIX: 'hookhub',
  JETSTREAM_REPLICAS: 1,
  JETSTREAM_DUPLICATE_WINDOW_MS: 600_000,
  JETSTREAM_MAX_AGE_MS: 7 * 24 * 3_600_000,
  SECRETS_ENCRYPTION_KEY: REQUIRED,
  EVENTS_RETENTION_DAYS: 30,
  DELIVERIES_RETENTION_DAYS: 30,
  CALLBACKS_RETENTION_DAYS: 14,
  PARTITIONS_AHEAD_DAYS: 7,
  EVENT_TYPES_REFRESH_MS: 2_000,
  RETENTION_INTERVAL_MS: 3_600_000,
  RETENTION_DELETE_BATCH: 5_000,
  RETENTION_DELETE_BATCHES_PER_RUN: 20,
  ARCHIVE_TARGET: 'none',
  ARCHIVE_DIR: undefined,
  ARCHIVE_S3_BUCKET: undefined,
  ARCHIVE_S3_PREFIX: 'hookhub',
  ARCHIVE_S3_ENDPOINT: undefined,
  ARCHIVE_S3_REGION: undefined,
  ARCHIVE_S3_FORCE_PATH_STYLE: false,
  ALLOW_INSECURE_WEBHOOK_TARGETS: false,
  WEBHOOK_TIMEOUT_MS: 10_000,
  LOG_LEVEL: 'info',
  LOG_PRETTY: false,
  LOG_DESTINATION: 'stdout',
  SHUTDOWN_GRACE_MS: 15_000,
  HOST: '0.0.0.0',
  STARTUP_WAIT_MS: 10_000,
  DISPATCHER_PORT: 3001,
  DISPATCHER_MAX_CONCURRENT_REQUESTS: 256,
  DISPATCHER_MAX_PER_SUBSCRIPTION: 64,
  DISPATCHER_MAX_IN_FLIGHT_EVENTS: 512,
  DISPATCHER_BATCH_SIZE: 100,
  DISPATCHER_MAX_ACK_PENDING: 10_000,
  DISPATCHER_RETRY_MAX_ACK_PENDING: 100_000,
  RETRY_PARK_THRESHOLD_MS: 60_000,
  RETRY_OVERDUE_AFTER_MS: 300_000,
  RETRY_SCHEDULER_INTERVAL_MS: 1_000,
  DISABLE_AFTER_FAILURES: 10,
  DISABLE_AFTER_FAILING_MS: 24 * 3_600_000,
  DISPATCHER_ACK_WAIT_MS: 60_000,
  SUBSCRIPTIONS_PORT: 3000,
  ADMIN_TOKEN: REQUIRED,
  SECRET_ROTATION_OVERLAP_MS: 24 * 3_600_000,
  INGEST_PUBLIC_URL: 'http://127.0.0.1:3002',
  PORTAL_FRAME_ANCESTORS: "'none'",
  PROVIDER_INGEST_PORT: 3002,
  INGEST_BODY_LIMIT: '30mb',
  TRUST_PROXY: false,
  INGEST_SNS_HOST_PATTERN: '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$',
  INGEST_SNS_ALLOW_HTTP: false,
  INGEST_LEASE_MS: 30_000,
  INGEST_MAX_ATTEMPTS: 20,
  OTEL_SDK_DISABLED: false,
  OTEL_TRACES_EXPORTER: undefined,
  OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_HEADERS: undefined,
  OTEL_EXPORTER_OTLP_TIMEOUT: 10_000,
  OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
  OTEL_SERVICE_NAME: undefined,
  OTEL_RESOURCE_ATTRIBUTES: undefined,
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_TRACES_SAMPLER_ARG: undefined,
  OTEL_BSP_SCHEDULE_DELAY: 5_000,
  OTEL_BSP_EXPORT_TIMEOUT: 30_000,
  OTEL_BSP_MAX_QUEUE_SIZE: 2_048,
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 512,
  OTEL_LOG_LEVEL: undefined,
};

/** String variables: values they take as given and values they refuse. */
const STRING_CASES: Record<string, { valid: string[]; invalid: string[] }> = {
  NATS_URL: {
    valid: ['nats://127.0.0.1:4222', 'nats://a:4222,nats://b:4222', 'tls://nats.example:4222'],
    invalid: ['', 'http://nats:4222', '127.0.0.1:4222', 'nats://'],
  },
  // Credentials that come in pairs are tested with their partner set (PAIRED below); files must be readable.
  NATS_USER: { valid: ['hookhub', 'a'], invalid: [''] },
  NATS_PASSWORD: { valid: ['s3cret', 'x'], invalid: [''] },
  NATS_TOKEN: { valid: ['t0ken'], invalid: [''] },
  NATS_CREDS_FILE: { valid: ['package.json'], invalid: ['', 'no/such/file.creds'] },
  NATS_TLS_CA_FILE: { valid: ['package.json'], invalid: ['', 'no/such/ca.pem'] },
  NATS_TLS_CERT_FILE: { valid: ['package.json'], invalid: ['', 'no/such/cert.pem'] },
  NATS_TLS_KEY_FILE: { valid: ['package.json'], invalid: ['', 'no/such/key.pem'] },
  HOST: { valid: ['0.0.0.0', '127.0.0.1', '::', '::1', 'localhost', 'hub.internal'], invalid: ['', '0.0.0.0:3000', 'http://x', 'a b'] },
  DATABASE_URL: { valid: ['postgres://u@h/db', 'postgresql://u:p@h:5432/db'], invalid: ['', 'mysql://u@h/db', 'postgres://'] },
  JETSTREAM_PREFIX: { valid: ['hookhub', 'a', 'a_1'], invalid: ['', 'Hookhub', '1a', 'a-b', 'a'.repeat(33)] },
  SECRETS_ENCRYPTION_KEY: { valid: ['ab'.repeat(32), `${'A'.repeat(43)}=`], invalid: ['', 'ab'.repeat(31), 'zz'.repeat(32)] },
  LOG_LEVEL: { valid: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], invalid: ['', 'INFO', 'verbose', ' info'] },
  LOG_DESTINATION: { valid: ['stdout', '/var/log/hookhub/subscriptions.log', 'logs/app.log'], invalid: [''] },
  ADMIN_TOKEN: { valid: ['x'.repeat(16), 'y'.repeat(64)], invalid: ['', 'x'.repeat(15)] },
  INGEST_PUBLIC_URL: {
    valid: ['https://hooks.example.com', 'http://127.0.0.1:3002', 'https://example.com/hookhub/'],
    invalid: ['', 'hooks.example.com', 'ftp://example.com', 'https://user:pw@example.com', 'https://example.com/?a=1', 'https://example.com/#x'],
  },
  PORTAL_FRAME_ANCESTORS: {
    valid: ["'none'", "'self'", 'https://app.example.com', "'self' https://app.example.com http://127.0.0.1:8080", 'https://*.example.com'],
    invalid: ['', '*', 'none', "'none' 'self'", 'https://app.example.com/path', "'unsafe-inline'", 'javascript:', 'https://a.example.com;script-src *'],
  },
  INGEST_BODY_LIMIT: { valid: ['30mb', '512kb', '1KB'], invalid: ['', '0kb', '30', '30gb', '1.5mb', '-1mb'] },
  INGEST_SNS_HOST_PATTERN: { valid: ['^127\\.0\\.0\\.1$', 'sns'], invalid: ['', '(', '[a-'] },
  ARCHIVE_TARGET: { valid: ['none', 'directory', 's3'], invalid: ['', 'S3', 'ftp', ' none'] },
  ARCHIVE_DIR: { valid: ['/var/lib/hookhub/archive', '/a'], invalid: ['', 'relative/dir', '/'] },
  ARCHIVE_S3_BUCKET: { valid: ['hookhub-archive', 'a.b-c'], invalid: ['', 'UPPER', 'a', '-leading'] },
  ARCHIVE_S3_PREFIX: { valid: ['hookhub', 'env/prod', 'a.b_c-d'], invalid: ['', '/leading', 'trailing/', 'a//b'] },
  ARCHIVE_S3_ENDPOINT: { valid: ['http://127.0.0.1:9000', 'https://s3.example.com/base'], invalid: ['', 'ftp://x', 's3.example.com'] },
  ARCHIVE_S3_REGION: { valid: ['eu-west-1', 'us-east-1'], invalid: ['', 'EU WEST'] },
  OTEL_TRACES_EXPORTER: { valid: ['otlp', 'console', 'none'], invalid: ['', 'OTLP', 'zipkin', 'otlp,console', ' otlp'] },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    valid: ['http://127.0.0.1:4318', 'https://otlp.example.com/base/'],
    invalid: ['', '127.0.0.1:4318', 'grpc://collector:4317', 'http://', 'http://a b'],
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { valid: ['http://collector:4318/v1/traces'], invalid: ['', 'collector:4318/v1/traces'] },
  OTEL_EXPORTER_OTLP_PROTOCOL: { valid: ['http/protobuf', 'http/json', 'grpc'], invalid: ['', 'http', 'HTTP/PROTOBUF', 'thrift'] },
  OTEL_EXPORTER_OTLP_HEADERS: {
    valid: ['api-key=s3cr3t', 'x-honeycomb-team=abc,x-honeycomb-dataset=hub', 'authorization=Basic%20dXNlcjpwdw=='],
    invalid: ['', 'api-key', '=value', 'a=1,,b=2'],
  },
  OTEL_EXPORTER_OTLP_COMPRESSION: { valid: ['none', 'gzip'], invalid: ['', 'GZIP', 'zstd'] },
  OTEL_SERVICE_NAME: { valid: ['hookhub-dispatcher', 'hub eu-1'], invalid: ['', ' leading', 'x'.repeat(256)] },
  OTEL_RESOURCE_ATTRIBUTES: { valid: ['deployment.environment.name=prod', 'service.namespace=support,service.version=1.2'], invalid: ['', 'prod', 'a=1,'] },
  OTEL_TRACES_SAMPLER: {
    valid: ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'],
    invalid: ['', 'ratio', 'ALWAYS_ON', 'jaeger_remote'],
  },
  OTEL_TRACES_SAMPLER_ARG: { valid: ['0', '1', '0.25', '1.0', '0.001'], invalid: ['', '1.5', '-0.1', '.5', '25%', '1e-2'] },
  OTEL_LOG_LEVEL: { valid: ['ERROR', 'warn', 'DEBUG', 'none'], invalid: ['', 'trace', 'loud'] },
};

/** Valid values for the variables without a default, so every other variable can be tested on its own. */
const SAMPLES: Record<string, string> = { SECRETS_ENCRYPTION_KEY: 'ab'.repeat(32), ADMIN_TOKEN: 'admin-token-0123456789' };

const BOOLEAN_INVALID = ['', ' ', 'maybe', '2', '-1', '01', 'y', 'n', 't', 'f', 'TRUE ', ' false', 'null', 'undefined', 'enabled', 'disabled'];
const INTEGER_INVALID = [
  '',
  ' ',
  '12abc',
  '1e3',
  '1E3',
  '0x10',
  '0b1',
  '0o7',
  '1.5',
  '1.0',
  '+1',
  '1_000',
  '1,000',
  'Infinity',
  '-Infinity',
  'NaN',
  'true',
  '9007199254740993',
];

/** Every property the class declares: fields (defaults or not) and anything class-validator checks. */
function declaredVariables(cls: ConfigClass): string[] {
  const validated = getMetadataStorage()
    .getTargetValidationMetadatas(cls, '', true, false)
    .map((m) => m.propertyName);
  return [...new Set([...Object.keys(new cls()), ...validated])].sort();
}

function requiredSamples(cls: ConfigClass): Record<string, string> {
  return Object.fromEntries([...envVariablesOf(cls).keys()].filter((name) => DEFAULTS[name] === REQUIRED).map((name) => [name, SAMPLES[name]]));
}

/** Variables that are only valid with another one set: each is tested with its partner at a valid value. */
const PAIRED: Record<string, Record<string, string>> = {
  NATS_USER: { NATS_PASSWORD: 'pw' },
  NATS_PASSWORD: { NATS_USER: 'user' },
  NATS_TLS_CERT_FILE: { NATS_TLS_KEY_FILE: 'package.json' },
  NATS_TLS_KEY_FILE: { NATS_TLS_CERT_FILE: 'package.json' },
  // A chosen archive target needs its location.
  ARCHIVE_TARGET: { ARCHIVE_DIR: '/var/lib/hookhub/archive', ARCHIVE_S3_BUCKET: 'hookhub-archive' },
};

/** What the app reads for `name` set to `raw`, or the error message it refuses to start with. */
function read(cls: ConfigClass, name: string, raw: string): { value: unknown } | { error: string } {
  try {
    return { value: (validateConfig(cls, { ...requiredSamples(cls), ...PAIRED[name], [name]: raw }) as Record<string, unknown>)[name] };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The refusal names only this variable, on one line, and says what it accepts. */
function expectRefused(cls: ConfigClass, name: string, raw: string, accepts: RegExp): void {
  const result = read(cls, name, raw);
  expect({ raw, refused: 'error' in result }).toEqual({ raw, refused: true });
  if (!('error' in result)) return;
  const lines = result.error.split('\n');
  expect({ raw, lines: lines.length, first: lines[0] }).toEqual({ raw, lines: 2, first: 'Invalid configuration:' });
  expect(lines[1].startsWith(`  ${name} `)).toBe(true);
  expect({ raw, line: lines[1] }).toEqual({ raw, line: expect.stringMatching(raw === '' ? /is empty: unset it to use the default/ : accepts) });
}

function integerCases(spec: Extract<EnvSpec, { kind: 'integer' }>, fallback: number): { valid: string[]; invalid: string[] } {
  const valid = [String(fallback)];
  const invalid = [...INTEGER_INVALID, ` ${fallback}`, `${fallback} `, `${fallback}.0`, `${fallback}abc`];
  if (spec.min !== undefined) {
    valid.push(String(spec.min));
    invalid.push(String(spec.min - 1));
    if (spec.min > -5) invalid.push('-5');
  }
  if (spec.max !== undefined) {
    valid.push(String(spec.max));
    invalid.push(String(spec.max + 1));
  }
  return { valid, invalid };
}

describe.each(APPS)('%s configuration', (_app, cls) => {
  const variables = [...envVariablesOf(cls).entries()];
  const ofKind = <K extends EnvSpec['kind']>(kind: K) => variables.filter((v): v is [string, Extract<EnvSpec, { kind: K }>] => v[1].kind === kind);

  it('gives every declared variable exactly one Env* decorator (strict parsing)', () => {
    expect(declaredVariables(cls).filter((name) => !envVariablesOf(cls).has(name))).toEqual([]);
  });

  it('has a default (or REQUIRED) in the table for every variable, and string cases for every string variable', () => {
    expect(variables.filter(([name]) => !(name in DEFAULTS)).map(([name]) => name)).toEqual([]);
    expect(
      ofKind('string')
        .filter(([name]) => !(name in STRING_CASES))
        .map(([name]) => name),
    ).toEqual([]);
    expect(variables.filter(([name]) => DEFAULTS[name] === REQUIRED && !(name in SAMPLES)).map(([name]) => name)).toEqual([]);
  });

  it('starts with the documented default for every unset variable', () => {
    const config = validateConfig(cls, requiredSamples(cls)) as Record<string, unknown>;
    for (const [name] of variables) {
      if (DEFAULTS[name] !== REQUIRED) expect({ name, value: config[name] }).toEqual({ name, value: DEFAULTS[name] });
    }
  });

  it('refuses to start without each required variable, naming it', () => {
    for (const [name] of variables.filter(([n]) => DEFAULTS[n] === REQUIRED)) {
      const others = { ...requiredSamples(cls) };
      delete others[name];
      expect(() => validateConfig(cls, others)).toThrow(new RegExp(`^  ${name} is required`, 'm'));
    }
  });

  it('refuses ALLOW_INSECURE_WEBHOOK_TARGETS written out as false or 0 being read as true (issue 11)', () => {
    for (const raw of ['false', 'FALSE', '0', 'no', 'off']) expect(read(cls, 'ALLOW_INSECURE_WEBHOOK_TARGETS', raw)).toEqual({ value: false });
  });

  describe.each(ofKind('boolean'))('boolean %s', (name) => {
    it.each([...ENV_TRUE_WORDS.map((w) => [w, true] as const), ...ENV_FALSE_WORDS.map((w) => [w, false] as const)])(
      'reads %s in any case',
      (word, expected) => {
        const capitalised = word.charAt(0).toUpperCase() + word.slice(1);
        for (const raw of [word, word.toUpperCase(), capitalised]) expect({ raw, ...read(cls, name, raw) }).toEqual({ raw, value: expected });
      },
    );

    it('refuses anything else at start-up', () => {
      for (const raw of BOOLEAN_INVALID) expectRefused(cls, name, raw, /must be one of true\/false, 1\/0, yes\/no, on\/off \(any case\)/);
    });
  });

  describe.each(ofKind('integer'))('integer %s', (name, spec) => {
    const cases = integerCases(spec, DEFAULTS[name] as number);

    it('reads decimal integers within its range', () => {
      for (const raw of cases.valid) expect({ raw, ...read(cls, name, raw) }).toEqual({ raw, value: Number(raw) });
    });

    it('refuses other spellings, fractions and values out of range', () => {
      for (const raw of cases.invalid)
        expectRefused(cls, name, raw, spec.unit === 'ms' ? /must be a whole number of milliseconds/ : /must be a decimal integer/);
    });
  });

  describe.each(ofKind('string'))('string %s', (name, spec) => {
    it('takes valid values as given', () => {
      for (const raw of STRING_CASES[name].valid) expect({ raw, ...read(cls, name, raw) }).toEqual({ raw, value: raw });
    });

    it('refuses invalid ones, echoing only a word from a fixed list (other strings may be credentials)', () => {
      for (const raw of STRING_CASES[name].invalid) {
        expectRefused(cls, name, raw, /must be /);
        if (raw.trim() !== '' && !spec.oneOf) expect(read(cls, name, raw)).not.toEqual({ error: expect.stringContaining(JSON.stringify(raw)) });
      }
    });
  });

  it('names every bad variable on a line of its own', () => {
    const bad = Object.fromEntries([...ofKind('boolean').map(([n]) => [n, 'maybe']), ...ofKind('integer').map(([n]) => [n, '12abc'])]);
    let message = '';
    try {
      validateConfig(cls, { ...requiredSamples(cls), ...bad });
    } catch (e) {
      message = (e as Error).message;
    }
    const named = message
      .split('\n')
      .slice(1)
      .map((line) => /^ {2}(\S+) /.exec(line)?.[1]);
    expect(named.sort()).toEqual(Object.keys(bad).sort());
  });
});
