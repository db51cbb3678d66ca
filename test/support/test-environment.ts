import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { Client } from 'pg';
import { testLogFile } from './test-logs';

/**
 * One isolated world per test file: its own PostgreSQL database and its own
 * JetStream prefix (so its own streams), both removed at the end.
 */
export interface TestEnvironment {
  id: string;
  databaseUrl: string;
  natsUrl: string;
  prefix: string;
  adminToken: string;
  encryptionKey: string;
  /** Configuration for the apps under test. */
  config(extra?: Record<string, string | number | boolean>): Record<string, string | number | boolean>;
  teardown(): Promise<void>;
}

/**
 * Servers a test started for itself (a NATS server it restarts, a PostgreSQL
 * cluster it crashes). They are thrown away whole at the end, so teardown only
 * cleans what lives on the machine's shared servers.
 */
export interface PrivateServers {
  natsUrl?: string;
  databaseAdminUrl?: string;
}

export async function createTestEnvironment(servers: PrivateServers = {}): Promise<TestEnvironment> {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const adminUrl = servers.databaseAdminUrl ?? process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `hookhub_test_${id}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const natsUrl = servers.natsUrl ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const prefix = `t${id}`;
  const env: TestEnvironment = {
    id,
    databaseUrl: url.toString(),
    natsUrl,
    prefix,
    adminToken: `admin-${randomBytes(16).toString('hex')}`,
    encryptionKey: randomBytes(32).toString('hex'),
    config: (extra = {}) => ({
      DATABASE_URL: env.databaseUrl,
      NATS_URL: natsUrl,
      JETSTREAM_PREFIX: prefix,
      ADMIN_TOKEN: env.adminToken,
      SECRETS_ENCRYPTION_KEY: env.encryptionKey,
      ALLOW_INSECURE_WEBHOOK_TARGETS: true,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // In-process apps log to the test file's log, which the reporter shows when a test fails.
      LOG_DESTINATION: testLogFile('apps'),
      SUBSCRIPTIONS_PORT: 0,
      DISPATCHER_PORT: 0,
      SHUTDOWN_GRACE_MS: 2_000,
      ...extra,
    }),
    teardown: async () => {
      // A failure on one server never skips cleaning the other.
      const results = await Promise.allSettled([
        servers.natsUrl ? undefined : deleteStreams(natsUrl, prefix),
        servers.databaseAdminUrl ? undefined : dropDatabase(adminUrl, database),
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
  return env;
}

/** Deletes the streams of one JetStream prefix (`<PREFIX>_EVENTS`, `<PREFIX>_RETRIES`, …). */
export async function deleteStreams(natsUrl: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl.split(','), reconnect: false, timeout: 2_000 });
  try {
    const jsm = await nc.jetstreamManager();
    const streamPrefix = `${prefix.toUpperCase()}_`;
    for await (const name of jsm.streams.names()) if (name.startsWith(streamPrefix)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
