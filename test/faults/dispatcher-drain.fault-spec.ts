import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import type { ApiClient } from '../support/hub';
import { AppProcess, startAppProcess } from '../support/processes';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import {
  builtApp,
  DeliveryTally,
  describeMissing,
  expectExactAccount,
  loggedProblems,
  publishToJetStream,
  setUpTenant,
  startSubscriptionsProcess,
  stopProcesses,
  ticketEvent,
} from '../support/faults';

const EVENTS = 1_200;
// Long, so an event the stopping pod kept would visibly wait for it; the survivor must be done well before.
const ACK_WAIT_MS = 40_000;
const SURVIVOR_BOUND_MS = 12_000;

describe('fault: SIGTERM of one of two dispatcher processes while it holds pulled events', () => {
  let env: TestEnvironment;
  let receiver: TestReceiver;
  let db: Client;
  let api: ApiClient;
  let nc: NatsConnection;
  const processes: AppProcess[] = [];
  const dispatchers: AppProcess[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment();
    const subscriptions = await startSubscriptionsProcess(env);
    processes.push(subscriptions.process);
    api = subscriptions.api;
    // A slow receiver: each pod holds pulled events it has not started (in its buffer and queue).
    const config = env.config({
      DISPATCHER_ACK_WAIT_MS: ACK_WAIT_MS,
      DISPATCHER_MAX_IN_FLIGHT_EVENTS: 128,
      DISPATCHER_BATCH_SIZE: 32,
      SHUTDOWN_GRACE_MS: 5_000,
    });
    for (let i = 0; i < 2; i++) {
      const d = await startAppProcess(builtApp('dispatcher'), config, 'DISPATCHER_PORT');
      dispatchers.push(d);
      processes.push(d);
    }
    receiver = await new TestReceiver().start();
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    nc = await connect({ servers: env.natsUrl });
  });

  afterAll(async () => {
    await stopProcesses(processes);
    await receiver?.stop();
    await nc?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await env?.teardown();
  });

  it('hands the events it had not started to the other pod at once (well before ack_wait); nothing is lost', async () => {
    const started = Date.now();
    const tally = new DeliveryTally(receiver, 20);
    const tenant = await setUpTenant(api, `${receiver.url}/drain`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));
    const accepted = await publishToJetStream(nc, env.prefix, tenant.tenantId, events);
    expect(accepted.size).toBe(EVENTS);

    await tally.waitForCount(EVENTS / 6, 30_000);
    const victim = dispatchers[0];
    // Nest re-raises the signal once it has closed, so a clean stop ends "killed by SIGTERM".
    const exited = new Promise<string>((resolve) => victim.child.once('exit', (code, signal) => resolve(String(signal ?? code))));
    const stoppedAt = Date.now();
    victim.child.kill('SIGTERM');

    await tally.waitForAll(accepted, SURVIVOR_BOUND_MS).catch(async (err: Error) => {
      const details = await describeMissing(tally, accepted, { databaseUrl: env.databaseUrl, natsUrl: env.natsUrl, prefix: env.prefix, processes });
      throw new Error(`${err.message} after SIGTERM (ack_wait ${ACK_WAIT_MS} ms)\n${details}`);
    });
    const allDeliveredMs = Date.now() - stoppedAt;
    expect(await exited).toBe('SIGTERM');
    const exitedMs = Date.now() - stoppedAt;
    await expectExactAccount(tally, db, accepted);
    expect(dispatchers[1].child.exitCode).toBeNull();

    console.log(
      `dispatcher-drain: ${EVENTS} events; SIGTERM after ${EVENTS / 6} delivered; all delivered ${allDeliveredMs} ms later (ack_wait ${ACK_WAIT_MS}); ` +
        `victim exited after ${exitedMs} ms; ${tally.requests} requests (${tally.duplicates} repeats of a delivery id); ` +
        `${Math.round((Date.now() - started) / 1000)} s; app warnings: ${JSON.stringify(loggedProblems(processes))}`,
    );
  }, 90_000);
});
