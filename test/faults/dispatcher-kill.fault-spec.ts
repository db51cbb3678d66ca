import { Client } from 'pg';
import type { ApiClient } from '../support/hub';
import { AppProcess, startAppProcess } from '../support/processes';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import {
  builtApp,
  DeliveryTally,
  expectExactAccount,
  publishThroughApi,
  setUpTenant,
  startSubscriptionsProcess,
  stopProcesses,
  ticketEvent,
} from '../support/faults';

const EVENTS = 5_000;
const IN_FLIGHT = 64;
const ACK_WAIT_MS = 5_000;

/** Prometheus counter of a dispatcher: delivery attempts it made, by any outcome. */
async function attemptsOf(p: AppProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('hookhub_delivery_attempts_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('fault: SIGKILL of one of three dispatcher processes during 5,000 events', () => {
  let env: TestEnvironment;
  let receiver: TestReceiver;
  let db: Client;
  let api: ApiClient;
  const processes: AppProcess[] = [];
  const dispatchers: AppProcess[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment();
    const subscriptions = await startSubscriptionsProcess(env);
    processes.push(subscriptions.process);
    api = subscriptions.api;
    const config = env.config({ DISPATCHER_ACK_WAIT_MS: ACK_WAIT_MS, DISPATCHER_MAX_IN_FLIGHT_EVENTS: IN_FLIGHT, DISPATCHER_BATCH_SIZE: 32 });
    for (let i = 0; i < 3; i++) {
      const d = await startAppProcess(builtApp('dispatcher'), config, 'DISPATCHER_PORT');
      dispatchers.push(d);
      processes.push(d);
    }
    receiver = await new TestReceiver().start();
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await stopProcesses(processes);
    await receiver?.stop();
    await db?.end().catch(() => undefined);
    await env?.teardown();
  });

  it('loses nothing: every event arrives under one delivery id and every delivery is recorded delivered', async () => {
    const started = Date.now();
    const tally = new DeliveryTally(receiver, 5);
    const tenant = await setUpTenant(api, `${receiver.url}/kill`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));

    const publishing = publishThroughApi(api, tenant.publisherKey, events, { concurrency: 32, giveUpAfterMs: 100_000 });

    // Kill a pod that is demonstrably delivering, a third of the way through.
    await tally.waitForCount(Math.floor(EVENTS / 3), 60_000);
    const victim = dispatchers[0];
    const victimAttempts = await attemptsOf(victim);
    victim.child.kill('SIGKILL');
    const receivedAtKill = tally.eventIds.size;
    const requestsAtKill = tally.requests;

    const published = await publishing;
    expect(published.accepted.size).toBe(EVENTS);
    expect(published.errors).toBe(0);

    await tally.waitForAll(published.accepted, 90_000);
    await expectExactAccount(tally, db, published.accepted);

    // The victim had deliveries in flight; those are the only ones that may be sent twice
    // (its unacked events are redelivered to the survivors after ack_wait).
    expect(victimAttempts).toBeGreaterThan(0);
    expect(victim.child.signalCode).toBe('SIGKILL');
    expect(tally.duplicates).toBeLessThanOrEqual(IN_FLIGHT);
    for (const survivor of dispatchers.slice(1)) expect(survivor.child.exitCode).toBeNull();

    // eslint-disable-next-line no-console
    console.log(
      `dispatcher-kill: ${EVENTS} events, ${tally.eventIds.size} distinct at the receiver, ${tally.copies.size} delivery ids, ` +
        `${tally.requests} requests (${tally.duplicates} repeats of a delivery id); killed after ${receivedAtKill} events / ${requestsAtKill} requests ` +
        `(victim had made ${victimAttempts} attempts); ${Math.round((Date.now() - started) / 1000)} s`,
    );
  });
});
