import { FaultWorld } from '../support/fault-world';
import { DeliveryTally, expectExactAccount, publishToJetStream, setUpTenant, sleep, ticketEvent } from '../support/faults';
import type { AppProcess } from '../support/processes';
import type { Client } from 'pg';
import { logRun } from '../support/test-logs';

const EVENTS = 800;
const IDLE_IN_TRANSACTION_MS = 2_000;
const LOCK_TIMEOUT_MS = 1_000;
// Short, so the frozen pod's events come back to the other one quickly (a frozen pod stops marking them in progress).
const ACK_WAIT_MS = 5_000;
/** While the victim stays frozen, the other dispatcher must deliver everything within this. */
const SURVIVOR_BOUND_MS = 25_000;

interface OpenTransaction {
  pid: number;
  state: string;
  idle_ms: number;
  query: string;
}

/** The victim's sessions that are inside a transaction, and for how long they have been idle there. */
async function openTransactions(db: Client, applicationName: string): Promise<OpenTransaction[]> {
  const r = await db.query<OpenTransaction>(
    `SELECT pid, state, (extract(epoch FROM now() - state_change) * 1000)::int AS idle_ms, left(query, 80) AS query
       FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL`,
    [applicationName],
  );
  return r.rows;
}

describe('fault: a dispatcher process frozen (SIGSTOP) mid-burst while another one runs', () => {
  let world: FaultWorld;
  let victim: AppProcess;

  beforeAll(async () => {
    world = await FaultWorld.start({
      dispatcherConfig: {
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: IDLE_IN_TRANSACTION_MS,
        DATABASE_LOCK_TIMEOUT_MS: LOCK_TIMEOUT_MS,
        DISPATCHER_ACK_WAIT_MS: ACK_WAIT_MS,
        DISPATCHER_MAX_IN_FLIGHT_EVENTS: 64,
        DISPATCHER_BATCH_SIZE: 32,
      },
    });
    // Each pod's sessions carry its name, so the test can see the victim's transactions.
    const namedSessions = (name: string): string => {
      const url = new URL(world.env.databaseUrl);
      url.searchParams.set('application_name', name);
      return url.toString();
    };
    victim = await world.startDispatcher({ DATABASE_URL: namedSessions('stall-victim') });
    await world.startDispatcher({ DATABASE_URL: namedSessions('stall-survivor') });
  });

  afterAll(async () => {
    if (victim?.child.exitCode === null) victim.child.kill('SIGCONT');
    await world?.teardown();
  });

  it('the other pod delivers everything while the frozen one holds no transaction past the bound; after SIGCONT nothing is lost', async () => {
    const started = Date.now();
    const { env, api, receiver, processes } = world;
    const db = await world.database();
    const tally = new DeliveryTally(receiver, 5);
    const tenant = await setUpTenant(api, `${receiver.url}/stall`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));
    const publishing = publishToJetStream(await world.nats(), env.prefix, tenant.tenantId, events, 50);

    // Freeze the victim inside a transaction that has written (so holds row locks), retrying until it is.
    await tally.waitForCount(EVENTS / 10, 30_000);
    let frozenIn: OpenTransaction[] = [];
    for (let tries = 0; tries < 300 && frozenIn.length === 0; tries++) {
      victim.child.kill('SIGSTOP');
      await sleep(20);
      frozenIn = (await openTransactions(db, 'stall-victim')).filter((t) => !/^(START TRANSACTION|BEGIN)/i.test(t.query));
      if (frozenIn.length === 0) {
        victim.child.kill('SIGCONT');
        await sleep(Math.floor(Math.random() * 15));
      }
    }
    expect(frozenIn.length).toBeGreaterThan(0);
    const frozenAt = Date.now();
    const deliveredAtFreeze = tally.eventIds.size;

    const accepted = await publishing;
    expect(accepted.size).toBe(EVENTS);

    // While it stays frozen: its transactions are ended by PostgreSQL within the bound (sampled), and the
    // other dispatcher delivers every event, including those the victim had taken.
    let longestIdleMs = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const t of await openTransactions(db, 'stall-victim')) longestIdleMs = Math.max(longestIdleMs, t.idle_ms);
        await sleep(100);
      }
    })();
    try {
      await world.waitForAll(tally, accepted, SURVIVOR_BOUND_MS, 'while the victim was frozen');
    } finally {
      sampling = false;
      await sampler;
    }
    const survivorDoneMs = Date.now() - frozenAt;
    expect(victim.child.exitCode).toBeNull();
    expect(await openTransactions(db, 'stall-victim')).toEqual([]);
    // Sampled every 100 ms; PostgreSQL checks the timeout on its own timer.
    expect(longestIdleMs).toBeLessThanOrEqual(IDLE_IN_TRANSACTION_MS + 500);

    // Thawed, the victim finds its sessions gone, rolls back and carries on; the account is exact.
    victim.child.kill('SIGCONT');
    await sleep(ACK_WAIT_MS);
    await expectExactAccount(tally, db, accepted);
    for (const p of processes) expect(p.child.exitCode ?? p.child.signalCode).toBeNull();

    logRun(
      `dispatcher-stall: ${EVENTS} events; victim frozen after ${deliveredAtFreeze} delivered inside ${JSON.stringify(frozenIn)}; ` +
        `the other pod had delivered all ${tally.eventIds.size} ${survivorDoneMs} ms later; longest idle-in-transaction seen ${longestIdleMs} ms ` +
        `(bound ${IDLE_IN_TRANSACTION_MS}); ${tally.requests} requests (${tally.duplicates} repeats of a delivery id); ` +
        `${Math.round((Date.now() - started) / 1000)} s; app warnings: ${world.problems()}`,
    );
  }, 90_000);
});
