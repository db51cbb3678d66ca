import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

interface Stats {
  attempts: number;
  successes: number;
  failures: number;
  success_rate: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}
interface Health extends Stats {
  window: string;
  since: string;
  until: string;
  bucket_ms: number;
  buckets: Array<Stats & { start: string }>;
  backlog: number;
  state: string;
  state_reason: string | null;
  consecutive_failures: number;
}

/** GET /v1/subscriptions/:id/health (#14): what the portal charts, counted from real attempts against a loopback receiver. */
describe('subscription health', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let receiver: TestReceiver;
  let tenant: { tenantId: string; adminKey: string; keyId: string };
  let publisher: string;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    receiver = await new TestReceiver().start();
    tenant = await hub.api.createTenant();
    publisher = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
  });
  afterAll(async () => {
    await hub?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  const health = async (id: string, query = '', token = tenant.adminKey) => {
    const res = await hub.api.request<Health>('GET', `/v1/subscriptions/${id}/health${query}`, { token });
    expect(res.status).toBe(200);
    return res.body;
  };

  it('counts attempts, successes and failures with latency percentiles, per bucket and in all, and the backlog', async () => {
    const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}/health`, event_types: ['ticket.created'], retry_policy_ms: [100, 100, 100] },
    });
    expect(sub.status).toBe(201);
    const empty = await health(sub.body.id);
    expect(empty).toMatchObject({ window: 'hour', bucket_ms: 300_000, attempts: 0, success_rate: null, latency_p50_ms: null, backlog: 0, state: 'active' });
    expect(empty.buckets).toHaveLength(12);
    expect(Date.parse(empty.until) - Date.parse(empty.since)).toBe(3_600_000);

    // Each event's first attempt fails with a 500, its retry succeeds after 40 ms.
    const seen = new Set<string>();
    receiver.respond = (req) => {
      const id = String(req.headers['x-webhook-delivery']);
      if (seen.has(id)) return { status: 200, delayMs: 40 };
      seen.add(id);
      return { status: 500 };
    };
    for (let i = 0; i < 3; i++) {
      const res = await hub.api.request('POST', '/v1/events', {
        token: publisher,
        body: { id: `h-${i}`, type: 'ticket.created', model_id: `t-${i}`, model: { id: `t-${i}` } },
      });
      expect(res.status).toBe(202);
    }
    let after!: Health;
    await eventually(async () => {
      after = await health(sub.body.id);
      expect(after).toMatchObject({ attempts: 6, successes: 3, failures: 3, success_rate: 0.5, backlog: 0 });
    }, 15_000);
    expect(after.latency_p99_ms).toBeGreaterThanOrEqual(40);
    expect(after.latency_p50_ms).toBeLessThanOrEqual(after.latency_p99_ms!);
    expect(after.buckets.reduce((n, b) => n + b.attempts, 0)).toBe(6);
    expect(after.buckets[after.buckets.length - 1].attempts).toBeGreaterThan(0);

    const day = await health(sub.body.id, '?window=day');
    expect(day).toMatchObject({ window: 'day', bucket_ms: 3_600_000, attempts: 6, successes: 3 });
    expect(day.buckets).toHaveLength(24);

    // A reader may look; a bad window is a 400 problem; another tenant sees nothing.
    const reader = (await hub.api.createKey(tenant.tenantId, ['reader'])).key;
    expect((await health(sub.body.id, '', reader)).attempts).toBe(6);
    const bad = await hub.api.request('GET', `/v1/subscriptions/${sub.body.id}/health?window=week`, { token: reader });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const other = await hub.api.createTenant('Other');
    expect((await hub.api.request('GET', `/v1/subscriptions/${sub.body.id}/health`, { token: other.adminKey })).status).toBe(404);
  });

  it('shows the backlog of deliveries waiting for a retry', async () => {
    const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}/backlog`, event_types: ['message.created'], retry_policy_ms: [600_000] },
    });
    receiver.respond = () => ({ status: 503 });
    const res = await hub.api.request('POST', '/v1/events', {
      token: publisher,
      body: { id: 'b-1', type: 'message.created', model_id: 'm-1', model: { id: 'm-1', ticket_id: 't-1' } },
    });
    expect(res.status).toBe(202);
    await eventually(
      async () => expect(await health(sub.body.id)).toMatchObject({ attempts: 1, failures: 1, success_rate: 0, backlog: 1, consecutive_failures: 1 }),
      15_000,
    );
  });
});
