import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { SubjectNames } from '@hookhub/contracts';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { AppProcess, buildApp, startAppProcess, stopProcess } from '../support/processes';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { anEnvelope } from '@hookhub/testing';

const EVENTS = 3_000;
const IN_FLIGHT = 64;

describe('three dispatcher processes share the work; SIGKILL of one loses nothing', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let receiver: TestReceiver;
  let nc: NatsConnection;
  let db: Client;
  const dispatchers: AppProcess[] = [];

  beforeAll(async () => {
    const main = buildApp('dispatcher');
    env = await createTestEnvironment();
    hub = await startHub(env, {}, { dispatchers: 0 });
    const config = env.config({ DISPATCHER_ACK_WAIT_MS: 5_000, DISPATCHER_MAX_IN_FLIGHT_EVENTS: IN_FLIGHT, DISPATCHER_BATCH_SIZE: 32 });
    for (let i = 0; i < 3; i++) dispatchers.push(await startAppProcess(main, config, 'DISPATCHER_PORT'));
    receiver = await new TestReceiver().start();
    receiver.respond = () => ({ status: 200, delayMs: 5 });
    nc = await connect({ servers: env.natsUrl });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    for (const d of dispatchers) await stopProcess(d);
    await hub?.close();
    await receiver?.stop();
    await nc?.close();
    await db?.end();
    await env?.teardown();
  });

  it('delivers 3,000 events at least once; duplicates are only deliveries in flight at the kill', async () => {
    const tenant = await hub.api.createTenant();
    const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}/scale`, event_types: ['ticket.updated'] },
    });
    expect(sub.status).toBe(201);

    // Trusted services publish straight to JetStream on the documented subject scheme.
    const subjects = new SubjectNames(env.prefix);
    const js = nc.jetstream();
    const publishing = (async () => {
      for (let i = 0; i < EVENTS; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, EVENTS - i) }, (_, k) => {
            const id = `evt-${i + k}`;
            const envelope = anEnvelope({ id, account_id: tenant.tenantId, type: 'ticket.updated', model_id: `t-${i + k}` });
            return js.publish(subjects.event(tenant.tenantId, 'ticket.updated'), Buffer.from(JSON.stringify(envelope)), {
              msgID: SubjectNames.eventMsgId(tenant.tenantId, id),
            });
          }),
        );
      }
    })();

    await receiver.waitFor(800, 60_000);
    const killedAt = Date.now();
    await stopProcess(dispatchers[0], 'SIGKILL');
    await publishing;

    await eventually(
      () => {
        const ids = new Set(receiver.requests.map((r) => (r.json() as { id: string }).id));
        expect(ids.size).toBe(EVENTS);
      },
      90_000,
      250,
    );

    const byDelivery = new Map<string, number[]>();
    for (const r of receiver.requests) {
      const id = String(r.headers['x-webhook-delivery']);
      byDelivery.set(id, [...(byDelivery.get(id) ?? []), r.receivedAt]);
    }
    expect(byDelivery.size).toBe(EVENTS);
    const duplicated = [...byDelivery.values()].filter((times) => times.length > 1);
    expect(duplicated.length).toBeLessThanOrEqual(IN_FLIGHT);
    for (const times of duplicated) expect(Math.min(...times)).toBeLessThanOrEqual(killedAt + 50);

    await eventually(async () => {
      const r = await db.query(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`);
      expect(r.rows).toEqual([{ status: 'delivered', n: EVENTS }]);
    }, 30_000);
  });
});

describe('graceful shutdown drains in-flight deliveries', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let receiver: TestReceiver;
  let db: Client;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env, {}, { dispatchers: 0 });
    receiver = await new TestReceiver().start();
    receiver.respond = () => ({ status: 200, body: 'slow ok', delayMs: 1_500 });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await hub?.close();
    await receiver?.stop();
    await db?.end();
    await env?.teardown();
  });

  it('on SIGTERM finishes the requests in flight, records them and exits; nothing is sent twice', async () => {
    const main = buildApp('dispatcher');
    const dispatcher = await startAppProcess(main, env.config({ SHUTDOWN_GRACE_MS: 10_000 }), 'DISPATCHER_PORT');
    const tenant = await hub.api.createTenant();
    const publisher = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
    await hub.api.request('POST', '/v1/subscriptions', { token: tenant.adminKey, body: { url: `${receiver.url}/slow`, event_types: ['ticket.created'] } });
    for (const id of ['evt-g1', 'evt-g2', 'evt-g3']) {
      await hub.api.request('POST', '/v1/events', { token: publisher, body: { id, type: 'ticket.created', model_id: id, model: { id } } });
    }
    await receiver.waitFor(3);

    const signalled = Date.now();
    await stopProcess(dispatcher, 'SIGTERM');
    // Nest re-raises the signal once its shutdown hooks have finished.
    expect(dispatcher.child.exitCode === 0 || dispatcher.child.signalCode === 'SIGTERM').toBe(true);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1_000);

    const rows = await db.query(`SELECT status, attempt_count FROM deliveries ORDER BY event_id`);
    expect(rows.rows).toEqual([
      { status: 'delivered', attempt_count: 1 },
      { status: 'delivered', attempt_count: 1 },
      { status: 'delivered', attempt_count: 1 },
    ]);

    // A new pod finds nothing left to redo.
    const next = await startAppProcess(main, env.config(), 'DISPATCHER_PORT');
    await new Promise((r) => setTimeout(r, 1_500));
    await stopProcess(next);
    expect(receiver.requests).toHaveLength(3);
  });
});
