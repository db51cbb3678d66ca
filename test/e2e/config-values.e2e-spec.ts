import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * Issue 11: configuration values reach the apps as the environment spells them
 * (strings), and `ALLOW_INSECURE_WEBHOOK_TARGETS=false` used to switch the URL
 * safety checks off. These run the real apps with the values as strings.
 */
describe('configuration values mean what they say', () => {
  let env: TestEnvironment;
  let receiver: TestReceiver;
  let hub: RunningHub | undefined;

  beforeAll(async () => {
    env = await createTestEnvironment();
    receiver = await new TestReceiver().start();
  });

  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  afterAll(async () => {
    await receiver?.stop();
    await env?.teardown();
  });

  const createSubscription = (h: RunningHub, adminKey: string) =>
    h.api.request<{ id: string; type?: string }>('POST', '/v1/subscriptions', {
      token: adminKey,
      body: { url: `${receiver.url}/hook`, event_types: ['ticket.created'] },
    });

  it.each(['false', '0', 'FALSE', 'off'])(
    'ALLOW_INSECURE_WEBHOOK_TARGETS=%s: the subscriptions app refuses an http://127.0.0.1 URL and stores nothing',
    async (raw) => {
      hub = await startHub(env, { ALLOW_INSECURE_WEBHOOK_TARGETS: raw }, { dispatchers: 0 });
      const tenant = await hub.api.createTenant(`Insecure ${raw}`);

      const res = await createSubscription(hub, tenant.adminKey);
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toMatch(/unsafe-url$/);

      const list = await hub.api.request<{ items: unknown[] }>('GET', '/v1/subscriptions', { token: tenant.adminKey });
      expect(list.body.items).toEqual([]);
      expect(receiver.requests).toHaveLength(0);
    },
  );

  it('ALLOW_INSECURE_WEBHOOK_TARGETS=true (a string, as from the environment) lets the same URL through', async () => {
    hub = await startHub(env, { ALLOW_INSECURE_WEBHOOK_TARGETS: 'true' }, { dispatchers: 0 });
    const tenant = await hub.api.createTenant('Insecure true');
    expect((await createSubscription(hub, tenant.adminKey)).status).toBe(201);
  });

  it('a dispatcher started with ALLOW_INSECURE_WEBHOOK_TARGETS=0 sends nothing to a loopback target', async () => {
    // The subscription exists (saved while allowed); the dispatcher alone is told "0".
    hub = await startHub(env, { ALLOW_INSECURE_WEBHOOK_TARGETS: 'true' }, { dispatchers: 0 });
    const tenant = await hub.api.createTenant('Dispatcher 0');
    const publisherKey = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
    const sub = await createSubscription(hub, tenant.adminKey);
    expect(sub.status).toBe(201);
    await hub.startDispatcher({ ALLOW_INSECURE_WEBHOOK_TARGETS: '0' });
    const before = receiver.requests.length;

    const event = { id: 'evt-config-0', type: 'ticket.created', model_id: 't-1', model: { id: 't-1' } };
    expect((await hub.api.request('POST', '/v1/events', { token: publisherKey, body: event })).status).toBe(202);

    let deliveries: Array<{ status: string; attempt_count: number; reason: string | null }> = [];
    await eventually(async () => {
      const res = await hub!.api.request<{ items: typeof deliveries }>('GET', `/v1/subscriptions/${sub.body.id}/deliveries`, { token: tenant.adminKey });
      deliveries = res.body.items;
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0].attempt_count).toBeGreaterThanOrEqual(1);
    }, 15_000);
    expect(deliveries[0].status).not.toBe('delivered');
    expect(deliveries[0].reason).toEqual(expect.any(String));
    expect(receiver.requests.length).toBe(before);
  });

  it('the list routes take decimal integers only as limit', async () => {
    hub = await startHub(env, {}, { dispatchers: 0 });
    const tenant = await hub.api.createTenant('Limits');
    expect((await hub.api.request('GET', '/v1/subscriptions?limit=10', { token: tenant.adminKey })).status).toBe(200);
    for (const limit of ['1e1', '0x10', '%205', '5.0', '', '12abc']) {
      const res = await hub.api.request<{ errors?: Array<{ pointer: string }> }>('GET', `/v1/subscriptions?limit=${limit}`, { token: tenant.adminKey });
      expect({ limit, status: res.status }).toEqual({ limit, status: 400 });
      expect([...new Set(res.body.errors?.map((e) => e.pointer))]).toEqual(['#/limit']);
    }
  });
});
