import { FaultWorld } from '../support/fault-world';
import { DeliveryTally, expectExactAccount, publishToJetStream, setUpTenant, sleep, ticketEvent } from '../support/faults';
import { PostgresServer } from '../support/postgres-server';
import type { AppProcess } from '../support/processes';
import { logRun } from '../support/test-logs';

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
  let world: FaultWorld;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    world = await FaultWorld.start({
      postgres: pg,
      dispatchers: 2,
      dispatcherConfig: { DISPATCHER_ACK_WAIT_MS: 10_000, DISPATCHER_MAX_IN_FLIGHT_EVENTS: 64, DISPATCHER_BATCH_SIZE: 32 },
    });
  });

  afterAll(async () => {
    await world?.teardown();
  });

  it('loses nothing: deliveries resume after each restart and every delivery record is complete', async () => {
    const started = Date.now();
    const { env, api, receiver, processes, dispatchers } = world;
    // Every 25th event's first attempt fails: its second attempt waits on the retries stream through the faults.
    const tally = new DeliveryTally(receiver, 5, { failFirstAttemptOf: (id) => Number(id.slice('evt-'.length)) % 25 === 0 });
    const tenant = await setUpTenant(api, `${receiver.url}/pg`, ['ticket.updated']);

    // The backlog goes to JetStream first (the API itself needs PostgreSQL to authenticate publishers).
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));
    const accepted = await publishToJetStream(await world.nats(), env.prefix, tenant.tenantId, events, 200);
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

    await world.waitForAll(tally, accepted, 90_000);
    expect(tally.eventIds.size).toBeGreaterThan(beforeRecovery);

    // Connected only now: a client from before the restarts would have lost its connection.
    await expectExactAccount(tally, await world.database(), accepted, 60_000);
    expect(tally.failedOnPurpose.size).toBe(Math.ceil(EVENTS / 25));

    // The dispatcher said it was unready while the database was gone, and every app stayed up.
    expect(duringOutage.status).toBe(503);
    expect(duringOutage.body).toContain('postgres');
    for (const p of processes) expect(p.child.exitCode ?? p.child.signalCode).toBeNull();
    for (const d of dispatchers) expect((await readiness(d)).status).toBe(200);

    // What happened, for the run log (docs/durability.md quotes these numbers).
    logRun(
      `postgres-restart: ${EVENTS} events; fast restart at ${fastAt} delivered, crash at ${crashAt} (down ${DOWN_MS} ms, ` +
        `${beforeRecovery} delivered before it came back); receiver: ${tally.eventIds.size} events, ${tally.copies.size} delivery ids, ` +
        `${tally.requests} requests (${tally.duplicates} repeats of a success, ${tally.failedOnPurpose.size} first attempts failed on purpose); ${Math.round((Date.now() - started) / 1000)} s; app warnings: ${world.problems()}`,
    );
  }, 150_000);
});
