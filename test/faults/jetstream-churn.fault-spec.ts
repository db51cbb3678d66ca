import { AckPolicy, connect, DeliverPolicy, DiscardPolicy, nanos, NatsConnection, NatsError, RetentionPolicy, StorageType } from 'nats';
import { SeededRandom } from '../soak/seeded-random';
import { sleep } from '../support/faults';
import { NatsCluster, NatsServerProcess } from '../support/nats-server';
import { logRun } from '../support/test-logs';

const SECONDS = Number(process.env.CHURN_SECONDS ?? 30);
const RATE = Number(process.env.CHURN_RATE ?? 200);
const SEED = Number(process.env.CHURN_SEED ?? 20261130);
const STREAM = 'CHURN';
const DURABLE = 'churn';

interface Acked {
  id: string;
  seq: number;
  duplicate: boolean;
  at: number;
  tries: number;
}

/**
 * JetStream alone, as the hub uses it (R3 file stream with de-duplication,
 * durable pull consumer with explicit acks, publishes retried with the same
 * message id for 10 s), under the soak's NATS faults at a higher rate: the
 * stream leader, the consumer leader or another node killed every few
 * seconds, back after 2–10 s, and often a leader killed a few seconds after
 * another node rejoined (the pattern of the soak's one lost event). Every
 * acknowledged message must be on the stream and reach the consumer.
 */
describe('fault: JetStream leader churn under publishing and consuming', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    nc = await connect({ servers: cluster.url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250, name: 'churn' });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: STREAM,
      subjects: ['churn.>'],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(120_000),
      num_replicas: 3,
    });
    await jsm.consumers.add(STREAM, {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(10_000),
      max_deliver: -1,
      max_ack_pending: 2_000,
    });
  }, 90_000);

  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    await cluster?.destroy();
  });

  it(
    'keeps every acknowledged message and hands each to the durable consumer',
    async () => {
      const random = new SeededRandom(SEED);
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      const t0 = Date.now();
      const at = (): string => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
      const faults: string[] = [];
      const acked = new Map<string, Acked>();
      const received = new Map<string, { seq: number; at: number; count: number }>();
      let unconfirmed = 0;
      let stop = false;

      const leaderOf = async (kind: 'stream' | 'consumer'): Promise<string | undefined> => {
        try {
          const info = kind === 'stream' ? await jsm.streams.info(STREAM) : await jsm.consumers.info(STREAM, DURABLE);
          return info.cluster?.leader;
        } catch {
          return undefined;
        }
      };

      const faulting = (async () => {
        let lastBack: { node: string; at: number } | undefined;
        while (Date.now() - t0 < SECONDS * 1_000) {
          await sleep(random.int(2_000, 6_000));
          const kind = random.weighted([
            ['stream-leader', 3],
            ['consumer-leader', 2],
            ['any', 2],
          ] as const);
          let name: string | undefined = kind === 'any' ? random.pick(cluster.nodes).name : await leaderOf(kind === 'stream-leader' ? 'stream' : 'consumer');
          name ??= random.pick(cluster.nodes).name;
          const node: NatsServerProcess = cluster.node(name);
          if (!node.running) continue;
          const down = random.int(2_000, 10_000);
          faults.push(
            `${at()} SIGKILL ${name} (${kind}${lastBack ? `, ${((Date.now() - lastBack.at) / 1000).toFixed(1)} s after ${lastBack.node} rejoined` : ''}) for ${down} ms`,
          );
          await node.stop('SIGKILL');
          await sleep(down);
          await node.start(60_000);
          lastBack = { node: name, at: Date.now() };
          faults.push(`${at()} ${name} back`);
        }
      })();

      const publishOne = async (id: string): Promise<void> => {
        const deadline = Date.now() + 10_000;
        let tries = 0;
        for (;;) {
          tries++;
          try {
            const ack = await js.publish(`churn.${id}`, new TextEncoder().encode(id), {
              msgID: id,
              timeout: Math.max(1, Math.min(2_000, deadline - Date.now())),
            });
            acked.set(id, { id, seq: ack.seq, duplicate: ack.duplicate, at: Date.now() - t0, tries });
            return;
          } catch (err) {
            if (!(err instanceof NatsError) || Date.now() + 150 >= deadline) {
              unconfirmed++;
              return;
            }
            await sleep(150);
          }
        }
      };
      const publishing = (async () => {
        const inFlight = new Set<Promise<void>>();
        let n = 0;
        while (Date.now() - t0 < SECONDS * 1_000) {
          const p = publishOne(`m-${++n}`).finally(() => inFlight.delete(p));
          inFlight.add(p);
          await sleep(1_000 / RATE);
        }
        await Promise.all(inFlight);
      })();

      let current: { stop(): void } | undefined;

      const consuming = (async () => {
        const consumer = await js.consumers.get(STREAM, DURABLE);
        while (!stop) {
          try {
            const messages = await consumer.consume({ max_messages: 64 });
            current = messages;
            for await (const m of messages) {
              const id = new TextDecoder().decode(m.data);
              const seen = received.get(id);
              if (seen) seen.count++;
              else received.set(id, { seq: m.seq, at: Date.now() - t0, count: 1 });
              m.ack();
              if (stop) break;
            }
          } catch {
            await sleep(250);
          }
        }
      })();

      await Promise.all([faulting, publishing]);
      // Quiet: every node up; the consumer catches up.
      const settleBy = Date.now() + 90_000;
      while (Date.now() < settleBy && [...acked.keys()].some((id) => !received.has(id))) await sleep(500);
      stop = true;
      current?.stop();
      const missing = [...acked.values()].filter((a) => !received.has(a.id));
      // Where a missing message is: on the stream under its sequence, or gone.
      const onStream: string[] = [];
      for (const m of missing.slice(0, 50)) {
        const got = await jsm.streams.getMessage(STREAM, { seq: m.seq }).catch((err: Error) => err);
        onStream.push(
          `${m.id} acked ${m.at} ms seq ${m.seq} dup=${m.duplicate} tries=${m.tries}: ${got instanceof Error ? got.message : new TextDecoder().decode(got.data)}`,
        );
      }
      const info = await jsm.streams.info(STREAM);
      const cinfo = await jsm.consumers.info(STREAM, DURABLE);
      logRun(
        JSON.stringify(
          {
            seconds: SECONDS,
            rate: RATE,
            seed: SEED,
            acked: acked.size,
            duplicatesAcked: [...acked.values()].filter((a) => a.duplicate).length,
            unconfirmed,
            received: received.size,
            redelivered: [...received.values()].filter((r) => r.count > 1).length,
            streamMessages: info.state.messages,
            streamLastSeq: info.state.last_seq,
            consumer: { pending: cinfo.num_pending, ackPending: cinfo.num_ack_pending, ackFloor: cinfo.ack_floor, delivered: cinfo.delivered },
            faults,
            missing: onStream,
          },
          null,
          2,
        ),
      );
      await consuming.catch(() => undefined);
      expect(onStream).toEqual([]);
      expect(missing).toHaveLength(0);
    },
    (SECONDS + 240) * 1_000,
  );
});
