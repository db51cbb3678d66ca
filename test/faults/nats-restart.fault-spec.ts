import { FaultWorld } from '../support/fault-world';
import { DeliveryTally, expectExactAccount, publishThroughApi, setUpTenant, sleep, ticketEvent } from '../support/faults';
import { NatsServer } from '../support/nats-server';
import { logRun } from '../support/test-logs';

const EVENTS = 1_500;
const DOWN_MS = 2_000;

describe('fault: the NATS server restarts (SIGTERM, then SIGKILL) while events are published through the API and delivered', () => {
  let nats: NatsServer;
  let world: FaultWorld;

  beforeAll(async () => {
    nats = await NatsServer.start();
    world = await FaultWorld.start({
      nats,
      dispatchers: 2,
      dispatcherConfig: { DISPATCHER_ACK_WAIT_MS: 10_000, DISPATCHER_MAX_IN_FLIGHT_EVENTS: 64, DISPATCHER_BATCH_SIZE: 32 },
    });
  });

  afterAll(async () => {
    await world?.teardown();
  });

  it('delivers every event the API accepted exactly under one delivery id; retried publishes are de-duplicated', async () => {
    const started = Date.now();
    const { api, receiver, processes } = world;
    // Every 25th event's first attempt fails: its second attempt waits on the retries stream through the faults.
    const tally = new DeliveryTally(receiver, 5, { failFirstAttemptOf: (id) => Number(id.slice('evt-'.length)) % 25 === 0 });
    const tenant = await setUpTenant(api, `${receiver.url}/nats`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));

    // Faults are timed by what the API has accepted: a graceful stop at 25 %, a crash at 60 %.
    let accepted = 0;
    let publishingEnded = false;
    const reached = async (n: number): Promise<void> => {
      while (accepted < n && !publishingEnded) await sleep(10);
    };
    const faults: string[] = [];
    const injecting = (async () => {
      for (const [at, signal] of [
        [Math.floor(EVENTS * 0.25), 'SIGTERM'],
        [Math.floor(EVENTS * 0.6), 'SIGKILL'],
      ] as const) {
        await reached(at);
        if (publishingEnded) break;
        const t0 = Date.now();
        const acceptedBefore = accepted;
        const deliveredBefore = tally.eventIds.size;
        await nats.server.restart(signal, DOWN_MS);
        faults.push(`${signal} at ${acceptedBefore} accepted / ${deliveredBefore} delivered, back in ${Date.now() - t0} ms`);
      }
    })();

    const published = await publishThroughApi(api, tenant.publisherKey, events, {
      concurrency: 16,
      onAccepted: (n) => (accepted = n),
      giveUpAfterMs: 100_000,
    }).finally(() => (publishingEnded = true));
    await injecting;
    expect(faults).toHaveLength(2);
    expect(published.accepted.size).toBe(EVENTS);

    const db = await world.database();
    await world.waitForAll(tally, published.accepted, 90_000);
    await expectExactAccount(tally, db, published.accepted);
    expect(tally.failedOnPurpose.size).toBe(Math.ceil(EVENTS / 25));

    // JetStream's de-duplication state survived both restarts (it is rebuilt from the stored
    // messages): publishing early events again stores nothing and delivers nothing.
    const again = await publishThroughApi(api, tenant.publisherKey, events.slice(0, 100), { concurrency: 8 });
    expect(again.errors).toBe(0);
    expect(again.duplicates).toBe(100);
    await sleep(1_500);
    await expectExactAccount(tally, db, published.accepted, 0);

    // Every app rode out the outages without restarting.
    for (const p of processes) expect(p.child.exitCode ?? p.child.signalCode).toBeNull();

    // What happened, for the run log (docs/durability.md quotes these numbers).
    logRun(
      `nats-restart: ${EVENTS} events accepted (${published.errors} failed publishes retried for ${published.retriedIds.size} ids: ` +
        `${JSON.stringify([...published.errorKinds])}; ${published.duplicates} retries answered duplicate; publishers stalled up to ${published.longestStallMs} ms); faults: ${faults.join('; ')}; ` +
        `receiver: ${tally.eventIds.size} events, ${tally.copies.size} delivery ids, ${tally.requests} requests (${tally.duplicates} repeats of a success, ${tally.failedOnPurpose.size} first attempts failed on purpose); ` +
        `${Math.round((Date.now() - started) / 1000)} s; app warnings: ${world.problems()}`,
    );
  }, 150_000);
});
