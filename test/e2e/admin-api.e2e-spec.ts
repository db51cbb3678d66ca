import { createHmac } from 'node:crypto';
import { eventually } from '../support/eventually';
import { ApiClient, RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const sign = (secret: string, raw: Buffer): string => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

describe('the admin API', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let api: ApiClient;
  let receiver: TestReceiver;
  let a: { tenantId: string; adminKey: string; keyId: string };
  let b: { tenantId: string; adminKey: string; keyId: string };
  let publisher: string;
  let n = 0;

  const publish = async (type = 'ticket.created'): Promise<string> => {
    const id = `evt-${++n}`;
    const res = await api.request('POST', '/v1/events', { token: publisher, body: { id, type, model_id: id, model: { id } } });
    expect(res.status).toBe(202);
    return id;
  };
  const subscribe = async (body: Record<string, unknown>, token = a.adminKey) => {
    const res = await api.request<{ id: string; secret: string; state: string }>('POST', '/v1/subscriptions', { token, body });
    expect(res.status).toBe(201);
    return res.body;
  };
  const forPath = (path: string) => receiver.requests.filter((r) => r.url.split('?')[0] === path);

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    api = hub.api;
    receiver = await new TestReceiver().start();
    a = await api.createTenant('A');
    b = await api.createTenant('B');
    publisher = (await api.createKey(a.tenantId, ['publisher'])).key;
  });
  afterAll(async () => {
    await hub.close();
    await receiver.stop();
    await env.teardown();
  });

  it('rotates a secret: during the overlap both secrets sign, after it only the new one', async () => {
    const sub = await subscribe({ url: `${receiver.url}/rotate`, event_types: ['survey.response_completed'], secret: 'old-secret-0123456789' });
    const rotated = await api.request<{ secret: string; previous_secret_expires_at: string }>('POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {
      token: a.adminKey,
      body: { overlap_ms: 1_500 },
    });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret;
    const send = () =>
      api.request('POST', '/v1/events', {
        token: publisher,
        body: { id: `evt-${++n}`, type: 'survey.response_completed', model_id: `r${n}`, model: { id: `r${n}`, survey_id: 's' } },
      });
    await send();
    const [during] = await eventually(async () => expect(forPath('/rotate')).toHaveLength(1)).then(() => forPath('/rotate'));
    const sigs = String(during.headers['x-webhook-signature']).split(',');
    expect(sigs).toEqual([sign(fresh, during.raw), sign('old-secret-0123456789', during.raw)]);

    await new Promise((r) => setTimeout(r, 1_600));
    await send();
    await eventually(async () => expect(forPath('/rotate')).toHaveLength(2));
    const after = forPath('/rotate')[1];
    expect(after.headers['x-webhook-signature']).toBe(sign(fresh, after.raw));
  });

  it('activates a subscription whose endpoint echoes the challenge and leaves others pending', async () => {
    receiver.respond = (req) => {
      const url = new URL(req.url, 'http://x');
      if (req.method === 'GET' && url.pathname === '/echo' && url.searchParams.get('verifyToken') === 'tok-1') {
        return { status: 200, body: url.searchParams.get('challenge') ?? '' };
      }
      return { status: 200, body: 'ok' };
    };
    const good = await subscribe({ url: `${receiver.url}/echo`, event_types: ['ticket.created'], verify_token: 'tok-1' });
    const bad = await subscribe({ url: `${receiver.url}/silent`, event_types: ['ticket.created'], verify_token: 'tok-2' });
    expect(good.state).toBe('pending_verification');
    await eventually(async () => {
      const g = await api.request<{ state: string }>('GET', `/v1/subscriptions/${good.id}`, { token: a.adminKey });
      expect(g.body.state).toBe('active');
    });
    const again = await api.request<{ verified: boolean; error: string; subscription: { state: string; state_reason: string } }>(
      'POST',
      `/v1/subscriptions/${bad.id}/verify`,
      { token: a.adminKey },
    );
    expect(again.body.verified).toBe(false);
    expect(again.body.error).toMatch(/challenge/);
    expect(again.body.subscription.state).toBe('pending_verification');
    // A pending subscription receives nothing.
    await publish();
    await eventually(async () => expect(forPath('/echo').filter((r) => r.method === 'POST').length).toBe(1));
    expect(forPath('/silent').filter((r) => r.method === 'POST')).toHaveLength(0);
    await api.request('POST', `/v1/subscriptions/${good.id}/disable`, { token: a.adminKey });
    await api.request('DELETE', `/v1/subscriptions/${bad.id}`, { token: a.adminKey });
  });

  it('leaves a subscription pending when the endpoint answers the challenge after 20 s', async () => {
    receiver.respond = (req) => {
      const url = new URL(req.url, 'http://x');
      return req.method === 'GET' && url.pathname === '/late'
        ? { status: 200, body: url.searchParams.get('challenge') ?? '', delayMs: 21_000 }
        : { status: 200, body: 'ok' };
    };
    const late = await subscribe({ url: `${receiver.url}/late`, event_types: ['ticket.created'], verify_token: 'tok-late' });
    const started = Date.now();
    const res = await api.request<{ verified: boolean; error: string; subscription: { state: string } }>('POST', `/v1/subscriptions/${late.id}/verify`, {
      token: a.adminKey,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(19_500);
    expect(res.body.verified).toBe(false);
    expect(res.body.error).toMatch(/timed out/);
    expect(res.body.subscription.state).toBe('pending_verification');
    await api.request('DELETE', `/v1/subscriptions/${late.id}`, { token: a.adminKey });
  }, 60_000);

  it('replays exactly the deliveries that failed while the receiver was down, and retries one on request', async () => {
    receiver.respond = (req) => (req.url === '/down' ? { status: 503 } : { status: 200 });
    const sub = await subscribe({ url: `${receiver.url}/down`, event_types: ['message.created'], retry_policy_ms: [] });
    const before = await publishMessage();
    await waitStatus(sub.id, before, 'failed');
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date().toISOString();
    const missed = [await publishMessage(), await publishMessage(), await publishMessage()];
    for (const id of missed) await waitStatus(sub.id, id, 'failed');

    receiver.respond = () => ({ status: 200 });
    const replay = await api.request<{ queued: number }>('POST', `/v1/subscriptions/${sub.id}/replay`, {
      token: a.adminKey,
      body: { since, only_failed: true },
    });
    expect(replay.status).toBe(202);
    expect(replay.body.queued).toBe(3);
    for (const id of missed) await waitStatus(sub.id, id, 'delivered');
    const delivered = forPath('/down')
      .filter((r) => r.headers['x-webhook-attempt'] === '2')
      .map((r) => (r.json() as { id: string }).id);
    expect(delivered.sort()).toEqual([...missed].sort());

    const list = await api.request<{ items: Array<{ id: string; event_id: string }> }>('GET', `/v1/subscriptions/${sub.id}/deliveries?status=failed`, {
      token: a.adminKey,
    });
    expect(list.body.items.map((d) => d.event_id)).toEqual([before]);
    const retried = await api.request<{ status: string }>('POST', `/v1/deliveries/${list.body.items[0].id}/retry`, { token: a.adminKey });
    expect(retried.status).toBe(202);
    await waitStatus(sub.id, before, 'delivered');
  });

  it('answers a test ping with the outcome of a signed webhook.test delivery', async () => {
    const sub = await subscribe({ url: `${receiver.url}/ping`, event_types: ['ticket.created'], secret: 'ping-secret-0123456789' });
    const res = await api.request<{ delivered: boolean; response_status: number }>('POST', `/v1/subscriptions/${sub.id}/test`, { token: a.adminKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ delivered: true, response_status: 200 });
    const [ping] = forPath('/ping');
    expect(ping.headers['x-webhook-event']).toBe('webhook.test');
    expect(ping.headers['x-webhook-signature']).toBe(sign('ping-secret-0123456789', ping.raw));
  });

  it('stops sending when the key that created a subscription is revoked, and refuses the revoked key', async () => {
    const creator = await api.createKey(a.tenantId, ['admin']);
    const sub = await subscribe({ url: `${receiver.url}/creator`, event_types: ['ticket.resolved'] }, creator.key);
    const revoke = await api.request('DELETE', `/v1/api-keys/${creator.id}`, { token: a.adminKey });
    expect(revoke.status).toBe(204);
    expect((await api.request('GET', '/v1/subscriptions', { token: creator.key })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 2_100)); // the dispatcher's key cache lives two seconds
    const id = await publish('ticket.resolved');
    await eventually(async () => {
      const d = await api.request<{ items: Array<{ event_id: string; status: string; reason: string }> }>('GET', `/v1/subscriptions/${sub.id}/deliveries`, {
        token: a.adminKey,
      });
      expect(d.body.items).toEqual([expect.objectContaining({ event_id: id, status: 'blocked', reason: expect.stringMatching(/revoked/) })]);
    });
    expect(forPath('/creator')).toHaveLength(0);
  });

  it('never lets one tenant see or change another tenant’s data', async () => {
    const sub = await subscribe({ url: `${receiver.url}/private`, event_types: ['ticket.updated'], secret: 'tenant-a-secret-0123456789' });
    const id = `evt-${++n}`;
    await api.request('POST', '/v1/events', {
      token: publisher,
      body: { id, type: 'ticket.updated', model_id: 'secret-ticket', model: { id: 'secret-ticket', subject: 'A only' } },
    });
    let deliveryId = '';
    await eventually(async () => {
      const d = await api.request<{ items: Array<{ id: string }> }>('GET', `/v1/subscriptions/${sub.id}/deliveries`, { token: a.adminKey });
      expect(d.body.items).toHaveLength(1);
      deliveryId = d.body.items[0].id;
    });
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/v1/subscriptions/${sub.id}`],
      ['PATCH', `/v1/subscriptions/${sub.id}`, { description: 'mine now' }],
      ['DELETE', `/v1/subscriptions/${sub.id}`],
      ['POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {}],
      ['POST', `/v1/subscriptions/${sub.id}/verify`],
      ['POST', `/v1/subscriptions/${sub.id}/test`],
      ['POST', `/v1/subscriptions/${sub.id}/replay`, { since: '2020-01-01T00:00:00Z' }],
      ['POST', `/v1/subscriptions/${sub.id}/enable`],
      ['POST', `/v1/subscriptions/${sub.id}/disable`],
      ['GET', `/v1/subscriptions/${sub.id}/deliveries`],
      ['GET', `/v1/deliveries/${deliveryId}`],
      ['POST', `/v1/deliveries/${deliveryId}/retry`],
      ['DELETE', `/v1/api-keys/${a.keyId}`],
      ['GET', '/v0/tickets/secret-ticket'],
    ];
    for (const [method, path, body] of routes) {
      const res = await api.request(method, path, { token: b.adminKey, body });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.text).not.toContain('A only');
    }
    const listed = await api.request<{ items: unknown[] }>('GET', '/v1/subscriptions', { token: b.adminKey });
    expect(listed.body.items).toHaveLength(0);
    const still = await api.request<{ state: string; description: string | null }>('GET', `/v1/subscriptions/${sub.id}`, { token: a.adminKey });
    expect(still.body).toMatchObject({ state: 'active', description: null });
    expect((await api.request('GET', '/v0/tickets/secret-ticket', { token: a.adminKey })).status).toBe(200);

    // The secret is in no response after creation.
    const views = [
      await api.request('GET', `/v1/subscriptions/${sub.id}`, { token: a.adminKey }),
      await api.request('GET', '/v1/subscriptions', { token: a.adminKey }),
      await api.request('PATCH', `/v1/subscriptions/${sub.id}`, { token: a.adminKey, body: { description: 'checked' } }),
      await api.request('GET', `/v1/deliveries/${deliveryId}`, { token: a.adminKey }),
    ];
    for (const v of views) {
      expect(v.status).toBe(200);
      expect(v.text).not.toContain('tenant-a-secret-0123456789');
    }
  });

  it('filters subscriptions by state and event type, and rejects unknown fields', async () => {
    const res = await api.request<{ items: Array<{ event_types: string[]; state: string }> }>(
      'GET',
      '/v1/subscriptions?state=active&event_type=ticket.updated',
      {
        token: a.adminKey,
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    for (const s of res.body.items) expect(s.state).toBe('active');
    const unknown = await api.request('POST', '/v1/subscriptions', {
      token: a.adminKey,
      body: { url: `${receiver.url}/x`, event_types: ['*'], colour: 'red' },
    });
    expect(unknown.status).toBe(400);
    const badQuery = await api.request('GET', '/v1/subscriptions?state=sleeping', { token: a.adminKey });
    expect(badQuery.status).toBe(400);
  });

  it('publishes an OpenAPI document listing every route', async () => {
    const res = await api.request<{ paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } }>('GET', '/docs-json');
    expect(res.status).toBe(200);
    const ops = Object.entries(res.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const op of [
      'POST /v1/tenants',
      'POST /v1/tenants/{tenantId}/api-keys',
      'POST /v1/api-keys',
      'GET /v1/api-keys',
      'DELETE /v1/api-keys/{id}',
      'POST /v1/subscriptions',
      'GET /v1/subscriptions',
      'GET /v1/subscriptions/{id}',
      'PATCH /v1/subscriptions/{id}',
      'DELETE /v1/subscriptions/{id}',
      'POST /v1/subscriptions/{id}/rotate-secret',
      'POST /v1/subscriptions/{id}/verify',
      'POST /v1/subscriptions/{id}/test',
      'POST /v1/subscriptions/{id}/replay',
      'POST /v1/subscriptions/{id}/enable',
      'POST /v1/subscriptions/{id}/disable',
      'GET /v1/subscriptions/{id}/deliveries',
      'GET /v1/deliveries/{id}',
      'POST /v1/deliveries/{id}/retry',
      'POST /v1/events',
      'GET /v1/event-types',
      'GET /v0/tickets/{id}',
      'GET /v0/tickets/{ticketId}/messages/{id}',
      'GET /v0/surveys/{surveyId}/responses/{id}',
    ]) {
      expect(ops).toContain(op);
    }
    expect(Object.keys(res.body.components.schemas)).toEqual(expect.arrayContaining(['CreateSubscriptionDto', 'PublishEventDto', 'DeliveryDetailView']));
  });

  async function publishMessage(): Promise<string> {
    const id = `evt-${++n}`;
    const res = await api.request('POST', '/v1/events', {
      token: publisher,
      body: { id, type: 'message.created', model_id: id, model: { id, ticket_id: 't' } },
    });
    expect(res.status).toBe(202);
    return id;
  }

  async function waitStatus(subId: string, eventId: string, status: string): Promise<void> {
    await eventually(async () => {
      const d = await api.request<{ items: Array<{ event_id: string; status: string }> }>('GET', `/v1/subscriptions/${subId}/deliveries?limit=200`, {
        token: a.adminKey,
      });
      expect(d.body.items.find((x) => x.event_id === eventId)?.status).toBe(status);
    }, 15_000);
  }
});
