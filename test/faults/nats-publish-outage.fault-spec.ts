import { connect } from 'nats';
import { FaultWorld } from '../support/fault-world';
import { setUpTenant, sleep, ticketEvent } from '../support/faults';
import type { ApiClient } from '../support/hub';
import { NatsServer } from '../support/nats-server';
import { logRun } from '../support/test-logs';

const DOWN_MS = 3_000;
/** Once NATS is back, a publish waiting through the outage is confirmed within this. */
const PROMPT_MS = 2_000;

interface Outcome {
  id: string;
  startedAt: number;
  endedAt: number;
  status: number;
  body: string;
}

async function publishOnce(api: ApiClient, key: string, i: number): Promise<Outcome> {
  const event = ticketEvent(i);
  const startedAt = Date.now();
  try {
    const res = await fetch(`${api.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(20_000),
    });
    return { id: event.id, startedAt, endedAt: Date.now(), status: res.status, body: await res.text() };
  } catch (err) {
    return { id: event.id, startedAt, endedAt: Date.now(), status: 0, body: String(err) };
  }
}

describe('fault: NATS restarts (down 3 s) while events are published through the API', () => {
  let nats: NatsServer;
  let world: FaultWorld;

  beforeAll(async () => {
    nats = await NatsServer.start();
    world = await FaultWorld.start({ nats });
  });

  afterAll(async () => {
    await world?.teardown();
  });

  it('publishes waiting through the outage are confirmed promptly once NATS is back, each stored once; a publish NATS never confirms says it may be stored', async () => {
    const { env, api } = world;
    const tenant = await setUpTenant(api, 'http://127.0.0.1:9/unused', ['ticket.updated']);
    const outcomes: Outcome[] = [];
    let next = 0;
    let publishing = true;
    // Every publisher sends one event at a time with a fresh id, never retrying: each answer is the API's own.
    const publishers = Array.from({ length: 8 }, async () => {
      while (publishing) {
        outcomes.push(await publishOnce(api, tenant.publisherKey, next++));
        await sleep(25);
      }
    });

    await sleep(1_000);
    const downAt = Date.now();
    await nats.server.stop('SIGKILL');
    await sleep(DOWN_MS);
    await nats.server.start();
    const upAt = Date.now();
    await sleep(PROMPT_MS + 1_000);
    publishing = false;
    await Promise.all(publishers);

    const failed = outcomes.filter((o) => o.status !== 202);
    const throughOutage = outcomes.filter((o) => o.startedAt < upAt && o.endedAt > downAt);
    const slowestAfterUp = Math.max(0, ...throughOutage.map((o) => o.endedAt - upAt));
    // The outage is shorter than a publish's deadline: every publish is confirmed, none fails.
    expect(failed.map((o) => `${o.id}: ${o.status} ${o.body.slice(0, 200)}`)).toEqual([]);
    expect(throughOutage.length).toBeGreaterThan(0);
    expect(slowestAfterUp).toBeLessThanOrEqual(PROMPT_MS);

    // Retried tries carried the same message id: the stream holds each accepted event exactly once.
    const nc = await connect({ servers: nats.url });
    try {
      const info = await (await nc.jetstreamManager()).streams.info(`${env.prefix.toUpperCase()}_EVENTS`);
      expect(info.state.messages).toBe(outcomes.length);
    } finally {
      await nc.close();
    }

    // NATS gone for longer than the deadline: the answer says the event may have been stored.
    await nats.server.stop('SIGKILL');
    const unconfirmed = await publishOnce(api, tenant.publisherKey, next++);
    expect(unconfirmed.status).toBe(503);
    const problem = JSON.parse(unconfirmed.body) as { type: string; detail: string; event_id: string };
    expect(problem.type).toBe('https://hookhub.dev/problems/event-not-confirmed');
    expect(problem.detail).toMatch(/may or may not have been stored: retry with the same id/);
    expect(problem.event_id).toBe(unconfirmed.id);
    await nats.server.start();

    logRun(
      `nats-publish-outage: ${outcomes.length} publishes, ${throughOutage.length} in flight through the ${DOWN_MS} ms outage, ` +
        `the last confirmed ${slowestAfterUp} ms after NATS was back; unconfirmed publish answered after ${unconfirmed.endedAt - unconfirmed.startedAt} ms`,
    );
  }, 60_000);
});
