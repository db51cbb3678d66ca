import { SubjectNames } from '@hookhub/contracts';
import { FaultWorld } from '../support/fault-world';
import { DeliveryTally, expectExactAccount, publishThroughApi, setUpTenant, sleep, ticketEvent } from '../support/faults';
import { NatsCluster } from '../support/nats-server';
import { logRun } from '../support/test-logs';

const EVENTS = 1_500;

/**
 * Three nats-server nodes on loopback (routes between all, JetStream with a
 * store directory each); the apps get all three URLs and create their streams
 * with JETSTREAM_REPLICAS=3. The node leading the events stream is killed.
 */
describe('fault: SIGKILL of the events stream leader in a three-node JetStream cluster during publishing and delivery', () => {
  let cluster: NatsCluster;
  let world: FaultWorld;

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    world = await FaultWorld.start({
      nats: cluster,
      config: { JETSTREAM_REPLICAS: 3 },
      dispatchers: 2,
      dispatcherConfig: { DISPATCHER_ACK_WAIT_MS: 10_000, DISPATCHER_MAX_IN_FLIGHT_EVENTS: 64, DISPATCHER_BATCH_SIZE: 32 },
    });
  });

  afterAll(async () => {
    await world?.teardown();
  });

  it('loses nothing: every accepted event is delivered under one delivery id after the leader dies', async () => {
    const started = Date.now();
    const { env, api, receiver, processes } = world;
    const subjects = new SubjectNames(env.prefix);
    const jsm = await (await world.nats()).jetstreamManager();

    // The hub's streams and durable consumers are replicated on all three nodes.
    for (const stream of [subjects.eventsStream, subjects.retriesStream]) {
      const info = await jsm.streams.info(stream);
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas).toHaveLength(2);
    }
    for (const [stream, durable] of [
      [subjects.eventsStream, 'dispatcher'],
      [subjects.retriesStream, 'retry'],
    ]) {
      const info = await jsm.consumers.info(stream, durable);
      expect(info.cluster?.replicas).toHaveLength(2);
    }
    const before = await jsm.streams.info(subjects.eventsStream);
    const victim = cluster.node(before.cluster!.leader!);
    const consumerLeader = (await jsm.consumers.info(subjects.eventsStream, 'dispatcher')).cluster?.leader;

    // Every 25th event's first attempt fails: its second attempt waits on the retries stream through the faults.
    const tally = new DeliveryTally(receiver, 5, { failFirstAttemptOf: (id) => Number(id.slice('evt-'.length)) % 25 === 0 });
    const tenant = await setUpTenant(api, `${receiver.url}/cluster`, ['ticket.updated']);
    const events = Array.from({ length: EVENTS }, (_, i) => ticketEvent(i));

    let accepted = 0;
    let publishingEnded = false;
    let killed = '';
    const killing = (async () => {
      while (accepted < EVENTS * 0.4 && !publishingEnded) await sleep(10);
      if (publishingEnded) return;
      killed = `${victim.name} (stream leader${consumerLeader === victim.name ? ' and consumer leader' : `; consumer leader ${consumerLeader}`}) at ${accepted} accepted / ${tally.eventIds.size} delivered`;
      await victim.stop('SIGKILL');
    })();
    const published = await publishThroughApi(api, tenant.publisherKey, events, {
      concurrency: 16,
      onAccepted: (n) => (accepted = n),
      giveUpAfterMs: 100_000,
    }).finally(() => (publishingEnded = true));
    await killing;
    expect(killed).not.toBe('');
    expect(victim.running).toBe(false);
    expect(published.accepted.size).toBe(EVENTS);

    await world.waitForAll(tally, published.accepted, 90_000);
    await expectExactAccount(tally, await world.database(), published.accepted);
    expect(tally.failedOnPurpose.size).toBe(Math.ceil(EVENTS / 25));

    // A surviving node took over the stream, which holds every event once.
    const after = await jsm.streams.info(subjects.eventsStream);
    expect(after.cluster?.leader).not.toBe(victim.name);
    expect(after.state.messages).toBe(EVENTS);
    for (const p of processes) expect(p.child.exitCode ?? p.child.signalCode).toBeNull();

    // What happened, for the run log (docs/durability.md quotes these numbers).
    logRun(
      `nats-cluster: ${EVENTS} events accepted (${published.errors} failed publishes retried for ${published.retriedIds.size} ids: ` +
        `${JSON.stringify([...published.errorKinds])}; ${published.duplicates} retries answered duplicate; publishers stalled up to ${published.longestStallMs} ms); killed ${killed}; new leader ${after.cluster?.leader}; ` +
        `receiver: ${tally.eventIds.size} events, ${tally.copies.size} delivery ids, ${tally.requests} requests (${tally.duplicates} repeats of a success, ${tally.failedOnPurpose.size} first attempts failed on purpose); ` +
        `${Math.round((Date.now() - started) / 1000)} s; app warnings: ${world.problems()}`,
    );
  }, 150_000);
});
