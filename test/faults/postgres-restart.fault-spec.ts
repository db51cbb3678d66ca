import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { SubjectNames } from '@hookhub/contracts';
import type { ApiClient } from '../support/hub';
import { PostgresServer } from '../support/postgres-server';
import { AppProcess, startAppProcess } from '../support/processes';
import { TestReceiver } from '../support/receiver';
import type { TestEnvironment } from '../support/test-environment';
import {
  builtApp,
  createEnvironmentOn,
  DeliveryTally,
  describeMissing,
  expectExactAccount,
  loggedProblems,
  setUpTenant,
  sleep,
  startSubscriptionsProcess,
  stopProcesses,
  ticketEvent,
} from '../support/faults';

const EVENTS = 2_000;
const DOWN_MS = 3_000;

async function readiness(p: AppProcess): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${p.port}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

/**
 * A private PostgreSQL cluster (initdb in a temporary directory, its own
 * port) so the restarts leave the machine's shared server alone.
 */
describe('fault: PostgreSQL restarts (fast shutdown, then an immediate crash with downtime) during delivery', () => {
  let pg: PostgresServer;
  let env: TestEnvironment;
  let receiver: TestReceiver;
  let api: ApiClient;
  let nc: NatsConnection;
  const processes: AppProcess[] = [];
  const dispatchers: AppProcess[] = [];

  beforeAll(async () => {
    pg = await PostgresServer.start();
    env = await createEnvironmentOn({ databaseAdminUrl: pg.adminUrl });
    const subscriptions = await startSubscriptionsProcess(env);
    processes.push(subscriptions.process);
    api = subscriptions.api;
    const config = env.config({ DISPATCHER_ACK_WAIT_MS: 10_000, DISPATCHER_MAX_IN_FLIGHT_EVENTS: 64, DISPATCHER_BATCH_SIZE: 32 });
    for (let i = 0; i < 2; i++) {
      const d = await startAppProcess(builtApp('dispatcher'), config, 'DISPATCHER_PORT');
      dispatchers.push(d);
      processes.push(d);
    }
    receiver = await new TestReceiver().start();
    nc = await connect({ servers: env.natsUrl });
  });

  afterAll(async () => {
    await stopProcesses(processes);
    await receiver?.stop();
    await nc?.close().catch(() => undefined);
    await env?.teardown().catch(() => undefined);
    await pg?.destroy();
  });

  it('loses nothing: deliveries resume after each restart and every delivery record is complete', async () => {
    const started = Date.now();
    // Every 25th event's first attempt fails: its second attempt waits on the retries stream through the faults.
    const tally = new DeliveryTally(receiver, 5, { failFirstAttemptOf: (id) => Number(id.slice('evt-'.length)) % 25 === 0 });
    const tenant = await setUpTenant(api, `${receiver.url}/pg`, ['ticket.updated']);

    // The backlog goes to JetStream first (the API itself needs PostgreSQL to authenticate publishers).
    const subjects = new SubjectNames(env.prefix);
    const js = nc.jetstream();
    const accepted = new Set<string>();
    for (let i = 0; i < EVENTS; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, EVENTS - i) }, async (_, k) => {
          const e = ticketEvent(i + k);
          const envelope = {
            id: e.id, account_id: tenant.tenantId, account_url: '', created_at: new Date().toISOString(), type: e.type, data: {},
            actor_type: null, actor_id: null, actor_name: null, model_type: 'ticket', model_id: e.model_id, model: e.model,
          };
          const ack = await js.publish(subjects.event(tenant.tenantId, e.type), new TextEncoder().encode(JSON.stringify(envelope)), {
            msgID: SubjectNames.eventMsgId(tenant.tenantId, e.id),
          });
          if (!ack.duplicate) accepted.add(e.id);
        }),
      );
    }
    expect(accepted.size).toBe(EVENTS);

    // 1. A clean restart (fast shutdown: open transactions roll back, every connection is cut).
    await tally.waitForCount(Math.floor(EVENTS * 0.25), 60_000);
    const fastAt = tally.eventIds.size;
    await pg.restart('fast');

    // 2. A crash (immediate shutdown: no checkpoint, WAL recovery at start), with the database gone for a while.
    await tally.waitForCount(Math.floor(EVENTS * 0.55), 60_000);
    const crashAt = tally.eventIds.size;
    await pg.stop('immediate');
    await sleep(DOWN_MS / 2);
    const duringOutage = await readiness(dispatchers[0]);
    await sleep(DOWN_MS / 2);
    const beforeRecovery = tally.eventIds.size;
    await pg.start();

    await tally.waitForAll(accepted, 90_000).catch(async (err: Error) => {
      const details = await describeMissing(tally, accepted, { databaseUrl: env.databaseUrl, natsUrl: env.natsUrl, prefix: env.prefix, processes });
      throw new Error(`${err.message}\n${details}`);
    });
    expect(tally.eventIds.size).toBeGreaterThan(beforeRecovery);

    const db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    try {
      await expectExactAccount(tally, db, accepted, 60_000);
      expect(tally.failedOnPurpose.size).toBe(Math.ceil(EVENTS / 25));
    } finally {
      await db.end();
    }

    // The dispatcher said it was unready while the database was gone, and every app stayed up.
    expect(duringOutage.status).toBe(503);
    expect(duringOutage.body).toContain('postgres');
    for (const p of processes) expect(p.child.exitCode ?? p.child.signalCode).toBeNull();
    for (const d of dispatchers) expect((await readiness(d)).status).toBe(200);

    // What happened, for the run log (docs/durability.md quotes these numbers).
    console.log(
      `postgres-restart: ${EVENTS} events; fast restart at ${fastAt} delivered, crash at ${crashAt} (down ${DOWN_MS} ms, ` +
        `${beforeRecovery} delivered before it came back); receiver: ${tally.eventIds.size} events, ${tally.copies.size} delivery ids, ` +
        `${tally.requests} requests (${tally.duplicates} repeats of a success, ${tally.failedOnPurpose.size} first attempts failed on purpose); ${Math.round((Date.now() - started) / 1000)} s; app warnings: ${JSON.stringify(loggedProblems(processes))}`,
    );
  }, 150_000);
});
