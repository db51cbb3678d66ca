import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { SubjectNames } from '@hookhub/contracts';
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
  setUpTenant,
  startSubscriptionsProcess,
  stopProcesses,
  ticketEvent,
} from '../support/faults';

const EVENTS = 5_000;
const IN_FLIGHT = 64;
// Long enough that a busy survivor does not see its own buffered events redelivered; short enough for a quick recovery.
const ACK_WAIT_MS = 10_000;

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
  let nc: NatsConnection;
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
    nc = await connect({ servers: env.natsUrl });
  });

  afterAll(async () => {
    await stopProcesses(processes);
    await receiver?.stop();
    await nc?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await env?.teardown();
  });

  it('loses nothing: every event arrives under one delivery id and every delivery is recorded delivered', async () => {
    const started = Date.now();
    const tally = new DeliveryTally(receiver, 5);
    const tenant = await setUpTenant(api, `${receiver.url}/kill`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));

    // A trusted service publishes straight to JetStream (the documented subject and message id scheme),
    // 100 at a time, each awaited until JetStream acknowledged it: what a 202 of the API also means.
    const subjects = new SubjectNames(env.prefix);
    const js = nc.jetstream();
    const accepted = new Set<string>();
    const publishing = (async () => {
      for (let i = 0; i < EVENTS; i += 100) {
        await Promise.all(
          events.slice(i, i + 100).map(async (e) => {
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
    })();

    // Kill a pod that is demonstrably delivering, a third of the way through.
    await tally.waitForCount(Math.floor(EVENTS / 3), 60_000);
    const victim = dispatchers[0];
    const victimAttempts = await attemptsOf(victim);
    victim.child.kill('SIGKILL');
    const receivedAtKill = tally.eventIds.size;
    const requestsAtKill = tally.requests;

    await publishing;
    expect(accepted.size).toBe(EVENTS);

    await tally.waitForAll(accepted, 90_000).catch(async (err: Error) => {
      const details = await describeMissing(tally, accepted, { databaseUrl: env.databaseUrl, natsUrl: env.natsUrl, prefix: env.prefix, processes });
      throw new Error(`${err.message}\n${details}`);
    });
    await expectExactAccount(tally, db, accepted);

    // The victim had deliveries in flight; those are the only ones that may be sent twice
    // (its unacked events are redelivered to the survivors after ack_wait).
    expect(victimAttempts).toBeGreaterThan(0);
    expect(victim.child.signalCode).toBe('SIGKILL');
    expect(tally.duplicates).toBeLessThanOrEqual(IN_FLIGHT);
    for (const survivor of dispatchers.slice(1)) expect(survivor.child.exitCode).toBeNull();

    // What happened, for the run log (docs/durability.md quotes these numbers).
    console.log(
      `dispatcher-kill: ${EVENTS} events, ${tally.eventIds.size} distinct at the receiver, ${tally.copies.size} delivery ids, ` +
        `${tally.requests} requests (${tally.duplicates} repeats of a delivery id); killed after ${receivedAtKill} events / ${requestsAtKill} requests ` +
        `(victim had made ${victimAttempts} attempts); ${Math.round((Date.now() - started) / 1000)} s; app warnings: ${JSON.stringify(loggedProblems(processes))}`,
    );
  }, 150_000);
});
