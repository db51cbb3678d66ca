import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { Client } from 'pg';

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

export async function createTestEnvironment(): Promise<TestEnvironment> {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `hookhub_test_${id}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
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
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      SUBSCRIPTIONS_PORT: 0,
      DISPATCHER_PORT: 0,
      SHUTDOWN_GRACE_MS: 2_000,
      ...extra,
    }),
    teardown: async () => {
      await deleteStreams(natsUrl, prefix.toUpperCase());
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
    },
  };
  return env;
}

async function deleteStreams(natsUrl: string, streamPrefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${streamPrefix}_`)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
}
