import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { SubjectNames } from '@hookhub/contracts';
import { ApiClient } from '../support/hub';
import { NatsCluster } from '../support/nats-server';
import { PostgresServer } from '../support/postgres-server';
import { freePort } from '../support/processes';
import { createSubscription } from '../support/subscriptions';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { FlakyReceiver } from './flaky-receiver';
import type { Ledger } from './ledger';
import type { SeededRandom } from './seeded-random';
import { AppKind, SupervisedApp } from './supervised-app';
import type { SoakSubscription } from './verdict';

const ROOT = join(__dirname, '..', '..');

/** Settings every app of the soak gets: short timeouts so that faults show within a short run. */
export const SOAK_SETTINGS = {
  JETSTREAM_REPLICAS: 3,
  WEBHOOK_TIMEOUT_MS: 4_000,
  DISPATCHER_ACK_WAIT_MS: 15_000,
  // Four ack waits: a retry job JetStream lost is looked for and enqueued again well within the quiet period.
  RETRY_OVERDUE_AFTER_MS: 60_000,
  SHUTDOWN_GRACE_MS: 5_000,
} as const;

/**
 * The whole hub on one machine as real processes: a three-node NATS cluster
 * (streams at R3), a private PostgreSQL, two subscriptions apps, three
 * dispatchers and one provider-ingest, plus three receivers; one tenant with
 * four subscriptions (strict order, default order with a short retry policy,
 * thin, provider messages) and a Twilio SMS connection.
 */
export class SoakWorld {
  readonly apps: SupervisedApp[] = [];
  readonly receivers: FlakyReceiver[] = [];
  readonly subscriptions: SoakSubscription[] = [];
  tenantId = '';
  publisherKey = '';
  providerUrl = '';
  readonly twilioToken = `soak-twilio-${Date.now().toString(36)}`;
  private nc?: NatsConnection;
  private db?: Client;

  private constructor(
    readonly cluster: NatsCluster,
    readonly postgres: PostgresServer,
    readonly env: TestEnvironment,
  ) {}

  static async start(ledger: Ledger, random: SeededRandom): Promise<SoakWorld> {
    const cluster = await NatsCluster.start(3);
    const postgres = await PostgresServer.start().catch(async (err: unknown) => {
      await cluster.destroy();
      throw err;
    });
    const env = await createTestEnvironment({ natsUrl: cluster.url, databaseAdminUrl: postgres.adminUrl });
    const world = new SoakWorld(cluster, postgres, env);
    try {
      await world.startApps();
      for (const name of ['r1', 'r2', 'r3']) {
        const receiver = new FlakyReceiver(name, await freePort(), ledger, random.fork(name.charCodeAt(1)), [200, 2_000]);
        await receiver.listen();
        world.receivers.push(receiver);
      }
      await world.setUpTenant();
      return world;
    } catch (err) {
      await world.teardown().catch(() => undefined);
      throw err;
    }
  }

  app(name: string): SupervisedApp {
    const app = this.apps.find((a) => a.name === name);
    if (!app) throw new Error(`no app ${name}`);
    return app;
  }

  get apiUrls(): string[] {
    return this.apps.filter((a) => a.kind === 'subscriptions').map((a) => a.url);
  }

  /** A NATS connection to the cluster that rides out the loss of a node. */
  async nats(): Promise<NatsConnection> {
    this.nc ??= await connect({ servers: this.cluster.url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    return this.nc;
  }

  /** A client of the soak's database (reconnects after a PostgreSQL restart). */
  async database(): Promise<Client> {
    if (this.db) {
      try {
        await this.db.query('SELECT 1');
        return this.db;
      } catch {
        await this.db.end().catch(() => undefined);
      }
    }
    this.db = new Client({ connectionString: this.env.databaseUrl });
    await this.db.connect();
    return this.db;
  }

  /** The node leading the events stream, as JetStream reports it. */
  async streamLeader(): Promise<string | undefined> {
    try {
      const jsm = await (await this.nats()).jetstreamManager({ timeout: 2_000 });
      return (await jsm.streams.info(new SubjectNames(this.env.prefix).eventsStream)).cluster?.leader;
    } catch {
      return undefined;
    }
  }

  subject(type: string): string {
    return new SubjectNames(this.env.prefix).event(this.tenantId, type);
  }

  async teardown(): Promise<void> {
    await Promise.allSettled(this.apps.map((a) => a.destroy()));
    await Promise.allSettled([...this.receivers.map((r) => r.close()), this.nc?.close(), this.db?.end()]);
    await Promise.allSettled([this.env.teardown()]);
    await Promise.allSettled([this.cluster.destroy(), this.postgres.destroy()]);
  }

  private async startApps(): Promise<void> {
    const { LOG_DESTINATION: _inProcess, ...config } = this.env.config({ ...SOAK_SETTINGS, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
    const env = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
    const plan: Array<[string, AppKind, string]> = [
      ['subscriptions-1', 'subscriptions', 'SUBSCRIPTIONS_PORT'],
      ['subscriptions-2', 'subscriptions', 'SUBSCRIPTIONS_PORT'],
      ['dispatcher-1', 'dispatcher', 'DISPATCHER_PORT'],
      ['dispatcher-2', 'dispatcher', 'DISPATCHER_PORT'],
      ['dispatcher-3', 'dispatcher', 'DISPATCHER_PORT'],
      ['provider-ingest', 'provider-ingest', 'PROVIDER_INGEST_PORT'],
    ];
    // One after the other: the first runs the migrations and creates the streams, the others find them.
    for (const [name, kind, portVariable] of plan) {
      const port = await freePort();
      const app = new SupervisedApp(name, kind, join(ROOT, 'dist', 'apps', kind, 'main.js'), { ...env, [portVariable]: String(port) }, port);
      this.apps.push(app);
      await app.start();
    }
  }

  private async setUpTenant(): Promise<void> {
    const api = new ApiClient(this.apiUrls[0], this.env.adminToken);
    const tenant = await api.createTenant('Soak');
    this.tenantId = tenant.tenantId;
    this.publisherKey = (await api.createKey(tenant.tenantId, ['publisher'])).key;
    const [r1, r2, r3] = this.receivers;
    const plans: Array<{ name: string; ordering: 'default' | 'strict'; body: { url: string; event_types: string[] } & Record<string, unknown> }> = [
      {
        name: 'strict',
        ordering: 'strict',
        body: { url: `${r1.url}/strict`, event_types: ['ticket.*'], ordering: 'strict', retry_policy_ms: [1_000, 2_000, 4_000, 8_000, 15_000, 20_000] },
      },
      { name: 'default', ordering: 'default', body: { url: `${r2.url}/default`, event_types: ['ticket.*'], retry_policy_ms: [1_000, 3_000, 6_000] } },
      {
        name: 'thin',
        ordering: 'default',
        body: {
          url: `${r3.url}/thin`,
          event_types: ['ticket.*'],
          format: 'thin',
          signature_scheme: 'standard-webhooks',
          retry_policy_ms: [2_000, 5_000, 10_000, 20_000],
        },
      },
      {
        name: 'messages',
        ordering: 'default',
        body: { url: `${r2.url}/messages`, event_types: ['message.*'], retry_policy_ms: [1_000, 3_000, 6_000, 12_000] },
      },
    ];
    for (const plan of plans) {
      const sub = await createSubscription<{ state: string }>(api, tenant.adminKey, plan.body);
      if (sub.state !== 'active') throw new Error(`subscription ${plan.name} is ${sub.state}`);
      this.subscriptions.push({ id: sub.id, name: plan.name, eventTypes: plan.body.event_types, ordering: plan.ordering });
    }
    const connection = await api.request<{ id: string; ingest_path: string }>('POST', '/v1/provider-connections', {
      token: tenant.adminKey,
      body: { provider: 'twilio_sms', credentials: { auth_token: this.twilioToken } },
    });
    if (connection.status !== 201) throw new Error(`provider connection not created: ${connection.status} ${connection.text}`);
    this.providerUrl = this.app('provider-ingest').url + connection.body.ingest_path;
    const patched = await api.request('PATCH', `/v1/provider-connections/${connection.body.id}`, {
      token: tenant.adminKey,
      body: { public_url: this.providerUrl },
    });
    if (patched.status !== 200) throw new Error(`provider connection not updated: ${patched.status} ${patched.text}`);
  }
}
