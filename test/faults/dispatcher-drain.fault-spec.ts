import { FaultWorld } from '../support/fault-world';
import { DeliveryTally, expectExactAccount, publishToJetStream, setUpTenant, ticketEvent } from '../support/faults';
import { logRun } from '../support/test-logs';

const EVENTS = 1_200;
// Long, so an event the stopping pod kept would visibly wait for it; the survivor must be done well before.
const ACK_WAIT_MS = 40_000;
const SURVIVOR_BOUND_MS = 12_000;

describe('fault: SIGTERM of one of two dispatcher processes while it holds pulled events', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    // A slow receiver: each pod holds pulled events it has not started (in its buffer and queue).
    world = await FaultWorld.start({
      dispatchers: 2,
      dispatcherConfig: { DISPATCHER_ACK_WAIT_MS: ACK_WAIT_MS, DISPATCHER_MAX_IN_FLIGHT_EVENTS: 128, DISPATCHER_BATCH_SIZE: 32, SHUTDOWN_GRACE_MS: 5_000 },
    });
  });

  afterAll(async () => {
    await world?.teardown();
  });

  it('hands the events it had not started to the other pod at once (well before ack_wait); nothing is lost', async () => {
    const started = Date.now();
    const { env, api, receiver, dispatchers } = world;
    const tally = new DeliveryTally(receiver, 20);
    const tenant = await setUpTenant(api, `${receiver.url}/drain`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));
    const accepted = await publishToJetStream(await world.nats(), env.prefix, tenant.tenantId, events);
    expect(accepted.size).toBe(EVENTS);

    await tally.waitForCount(EVENTS / 6, 30_000);
    const victim = dispatchers[0];
    // The launcher (runApp) ends a clean stop with exit code 0; a crash or a kill would end otherwise.
    const exited = new Promise<string>((resolve) => victim.child.once('exit', (code, signal) => resolve(String(signal ?? code))));
    const stoppedAt = Date.now();
    victim.child.kill('SIGTERM');

    await world.waitForAll(tally, accepted, SURVIVOR_BOUND_MS, `after SIGTERM (ack_wait ${ACK_WAIT_MS} ms)`);
    const allDeliveredMs = Date.now() - stoppedAt;
    expect(await exited).toBe('0');
    const exitedMs = Date.now() - stoppedAt;
    await expectExactAccount(tally, await world.database(), accepted);
    expect(dispatchers[1].child.exitCode).toBeNull();

    logRun(
      `dispatcher-drain: ${EVENTS} events; SIGTERM after ${EVENTS / 6} delivered; all delivered ${allDeliveredMs} ms later (ack_wait ${ACK_WAIT_MS}); ` +
        `victim exited after ${exitedMs} ms; ${tally.requests} requests (${tally.duplicates} repeats of a delivery id); ` +
        `${Math.round((Date.now() - started) / 1000)} s; app warnings: ${world.problems()}`,
    );
  }, 90_000);
});
