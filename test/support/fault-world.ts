import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { DeliveryTally, describeMissing, loggedProblems } from './faults';
import { ApiClient } from './hub';
import type { NatsCluster, NatsServer } from './nats-server';
import type { PostgresServer } from './postgres-server';
import { AppProcess, buildApp, startAppProcess } from './processes';
import { TestReceiver } from './receiver';
import { createTestEnvironment, TestEnvironment } from './test-environment';

const ROOT = join(__dirname, '..', '..');

type Config = Record<string, string | number | boolean>;

export interface FaultWorldOptions {
  /** A NATS server (or cluster) the test started to break, instead of the machine's shared one; the world destroys it. */
  nats?: NatsServer | NatsCluster;
  /** Likewise a private PostgreSQL cluster. */
  postgres?: PostgresServer;
  /** Configuration of every app (e.g. `JETSTREAM_REPLICAS`). */
  config?: Config;
  /** Dispatcher processes started with the world (more with `startDispatcher`); none by default. */
  dispatchers?: number;
  /** Configuration of those dispatchers on top of `config`. */
  dispatcherConfig?: Config;
}

/**
 * What a fault test runs against: its own database and stream prefix, the
 * subscriptions app and dispatchers as real processes (so they can be killed,
 * frozen and restarted), a receiver, and clients of its PostgreSQL and NATS.
 */
export class FaultWorld {
  readonly receiver = new TestReceiver();
  /** Every app process, for stopping them and reading their logs. */
  readonly processes: AppProcess[] = [];
  readonly dispatchers: AppProcess[] = [];
  private db?: Client;
  private nc?: NatsConnection;

  private constructor(
    readonly env: TestEnvironment,
    readonly api: ApiClient,
    private readonly options: FaultWorldOptions,
  ) {}

  static async start(options: FaultWorldOptions = {}): Promise<FaultWorld> {
    let env: TestEnvironment | undefined;
    let world: FaultWorld | undefined;
    try {
      env = await createTestEnvironment({ natsUrl: options.nats?.url, databaseAdminUrl: options.postgres?.adminUrl });
      const subscriptions = await startSubscriptionsProcess(env, options.config);
      world = new FaultWorld(env, subscriptions.api, options);
      world.processes.push(subscriptions.process);
      for (let i = 0; i < (options.dispatchers ?? 0); i++) await world.startDispatcher();
      await world.receiver.start();
      return world;
    } catch (err) {
      // No afterAll gets a world that failed to start: clean up here what did start.
      if (world) await world.teardown().catch(() => undefined);
      else await Promise.allSettled([env?.teardown(), options.nats?.destroy(), options.postgres?.destroy()]);
      throw err;
    }
  }

  /** One more dispatcher process, with `extra` on top of the world's dispatcher configuration. */
  async startDispatcher(extra: Config = {}): Promise<AppProcess> {
    const config = this.env.config({ ...this.options.config, ...this.options.dispatcherConfig, ...extra });
    const dispatcher = await startAppProcess(builtApp('dispatcher'), config, 'DISPATCHER_PORT');
    this.dispatchers.push(dispatcher);
    this.processes.push(dispatcher);
    return dispatcher;
  }

  /** A client of the test's database, connected on first use (after the test started its private PostgreSQL). */
  async database(): Promise<Client> {
    if (!this.db) {
      this.db = new Client({ connectionString: this.env.databaseUrl });
      await this.db.connect();
    }
    return this.db;
  }

  /** A NATS connection that rides out a restart or the loss of a cluster node. */
  async nats(): Promise<NatsConnection> {
    this.nc ??= await connect({ servers: this.env.natsUrl.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    return this.nc;
  }

  /** Waits until the receiver has every expected event; the error tells all that is known about the missing ones. */
  async waitForAll(tally: DeliveryTally, expected: Set<string>, timeoutMs: number, context = ''): Promise<void> {
    try {
      await tally.waitForAll(expected, timeoutMs);
    } catch (err) {
      const { databaseUrl, natsUrl, prefix } = this.env;
      const details = await describeMissing(tally, expected, { databaseUrl, natsUrl, prefix, processes: this.processes });
      throw new Error(`${(err as Error).message}${context ? ` ${context}` : ''}\n${details}`, { cause: err });
    }
  }

  /** What the apps complained about (warn and above), for the run log. */
  problems(): string {
    return JSON.stringify(loggedProblems(this.processes));
  }

  /** Stops everything the world started and destroys its private servers; a failure of one step never skips the others. */
  async teardown(): Promise<void> {
    await stopProcesses(this.processes);
    await Promise.allSettled([this.receiver.stop(), this.nc?.close(), this.db?.end()]);
    const cleaned = await Promise.allSettled([this.env.teardown()]);
    await Promise.allSettled([this.options.nats?.destroy(), this.options.postgres?.destroy()]);
    if (cleaned[0].status === 'rejected') throw cleaned[0].reason;
  }
}

/** The built app under dist/ (`npm run test:faults` builds first); builds it only when missing. */
function builtApp(app: 'subscriptions' | 'dispatcher'): string {
  const main = join(ROOT, 'dist', 'apps', app, 'main.js');
  return existsSync(main) ? main : buildApp(app);
}

/** Stops app processes: SIGTERM, then SIGKILL for any still alive after `graceMs` (a hub waiting for a dead server may hang). */
async function stopProcesses(processes: AppProcess[], graceMs = 5_000): Promise<void> {
  await Promise.all(
    processes.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** The subscriptions app as a process, with an API client for it. */
async function startSubscriptionsProcess(
  env: TestEnvironment,
  extra: Record<string, string | number | boolean> = {},
): Promise<{ process: AppProcess; api: ApiClient }> {
  const p = await startAppProcess(builtApp('subscriptions'), env.config(extra), 'SUBSCRIPTIONS_PORT');
  return { process: p, api: new ApiClient(`http://127.0.0.1:${p.port}`, env.adminToken) };
}
