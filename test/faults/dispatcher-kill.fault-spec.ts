import { FaultWorld } from '../support/fault-world';
import { DeliveryTally, expectExactAccount, publishToJetStream, setUpTenant, ticketEvent } from '../support/faults';
import type { AppProcess } from '../support/processes';
import { logRun } from '../support/test-logs';

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
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start({
      dispatchers: 3,
      dispatcherConfig: { DISPATCHER_ACK_WAIT_MS: ACK_WAIT_MS, DISPATCHER_MAX_IN_FLIGHT_EVENTS: IN_FLIGHT, DISPATCHER_BATCH_SIZE: 32 },
    });
  });

  afterAll(async () => {
    await world?.teardown();
  });

  it('loses nothing: every event arrives under one delivery id and every delivery is recorded delivered', async () => {
    const started = Date.now();
    const { env, api, receiver, dispatchers } = world;
    const tally = new DeliveryTally(receiver, 5);
    const tenant = await setUpTenant(api, `${receiver.url}/kill`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));

    // A trusted service publishes straight to JetStream, each event awaited until JetStream acknowledged it:
    // what a 202 of the API also means.
    const publishing = publishToJetStream(await world.nats(), env.prefix, tenant.tenantId, events);

    // Kill a pod that is demonstrably delivering, a third of the way through.
    await tally.waitForCount(Math.floor(EVENTS / 3), 60_000);
    const victim = dispatchers[0];
    const victimAttempts = await attemptsOf(victim);
    victim.child.kill('SIGKILL');
    const receivedAtKill = tally.eventIds.size;
    const requestsAtKill = tally.requests;

    const accepted = await publishing;
    expect(accepted.size).toBe(EVENTS);

    await world.waitForAll(tally, accepted, 90_000);
    await expectExactAccount(tally, await world.database(), accepted);

    // The victim had deliveries in flight; those are the only ones that may be sent twice
    // (its unacked events are redelivered to the survivors after ack_wait).
    expect(victimAttempts).toBeGreaterThan(0);
    expect(victim.child.signalCode).toBe('SIGKILL');
    expect(tally.duplicates).toBeLessThanOrEqual(IN_FLIGHT);
    for (const survivor of dispatchers.slice(1)) expect(survivor.child.exitCode).toBeNull();

    // What happened, for the run log (docs/durability.md quotes these numbers).
    logRun(
      `dispatcher-kill: ${EVENTS} events, ${tally.eventIds.size} distinct at the receiver, ${tally.copies.size} delivery ids, ` +
        `${tally.requests} requests (${tally.duplicates} repeats of a delivery id); killed after ${receivedAtKill} events / ${requestsAtKill} requests ` +
        `(victim had made ${victimAttempts} attempts); ${Math.round((Date.now() - started) / 1000)} s; app warnings: ${world.problems()}`,
    );
  }, 150_000);
});
