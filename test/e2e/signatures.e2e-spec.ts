import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const hex = (secret: string, body: Buffer): string => createHmac('sha256', secret).update(body).digest('hex');
const same = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

describe('signature schemes, verified the way receivers verify them', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let receiver: TestReceiver;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await hub.close();
    await receiver.stop();
    await env.teardown();
  });

  it('signs with sha256, enchant and standard-webhooks; each verifies with its secret and fails with another', async () => {
    const tenant = await hub.api.createTenant();
    const publisher = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
    const secrets: Record<string, string> = {};
    for (const scheme of ['sha256', 'enchant', 'standard-webhooks']) {
      const res = await hub.api.request<{ secret: string }>('POST', '/v1/subscriptions', {
        token: tenant.adminKey,
        body: { url: `${receiver.url}/${scheme}`, event_types: ['ticket.created'], signature_scheme: scheme },
      });
      expect(res.status).toBe(201);
      secrets[scheme] = res.body.secret;
    }
    expect(secrets['standard-webhooks']).toMatch(/^whsec_/);
    await hub.api.request('POST', '/v1/events', { token: publisher, body: { id: 'evt-sig', type: 'ticket.created', model_id: 't', model: { id: 't' } } });
    await receiver.waitFor(3);
    const by = (path: string) => receiver.requests.find((r) => r.url === path)!;

    const sha = by('/sha256');
    expect(same(String(sha.headers['x-webhook-signature']), `sha256=${hex(secrets.sha256, sha.raw)}`)).toBe(true);
    expect(sha.headers['enchant-signature']).toBeUndefined();

    const enchant = by('/enchant');
    expect(same(String(enchant.headers['enchant-signature']), hex(secrets.enchant, enchant.raw))).toBe(true);
    expect(enchant.headers['x-webhook-signature']).toBeUndefined();
    expect(same(String(enchant.headers['enchant-signature']), hex(secrets.sha256, enchant.raw))).toBe(false);

    const std = by('/standard-webhooks');
    const headers = {
      'webhook-id': String(std.headers['webhook-id']),
      'webhook-timestamp': String(std.headers['webhook-timestamp']),
      'webhook-signature': String(std.headers['webhook-signature']),
    };
    expect(headers['webhook-id']).toBe(std.headers['x-webhook-delivery']);
    expect(new Webhook(secrets['standard-webhooks']).verify(std.raw.toString('utf8'), headers)).toMatchObject({ id: 'evt-sig' });
    const other = new Webhook('whsec_' + Buffer.alloc(32, 7).toString('base64'));
    expect(() => other.verify(std.raw.toString('utf8'), headers)).toThrow();
    expect(() => new Webhook(secrets['standard-webhooks']).verify(std.raw.toString('utf8').replace('evt-sig', 'evt-sih'), headers)).toThrow();
  });
});

describe('a dispatcher restart during a retry delay', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let receiver: TestReceiver;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await hub.close();
    await receiver.stop();
    await env.teardown();
  });

  it('still retries on time: the delay is held by JetStream, not by the process', async () => {
    receiver.respond = (_req, i) => (i === 0 ? { status: 500 } : { status: 200 });
    const tenant = await hub.api.createTenant();
    const publisher = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
    await hub.api.request('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}/r`, event_types: ['ticket.created'], retry_policy_ms: [5_000] },
    });
    await hub.api.request('POST', '/v1/events', { token: publisher, body: { id: 'evt-restart', type: 'ticket.created', model_id: 't', model: { id: 't' } } });
    const [first] = await receiver.waitFor(1);

    const old = hub.dispatchers.shift()!;
    await old.close();
    await new Promise((r) => setTimeout(r, 1_500));
    await hub.startDispatcher();

    const [, second] = await receiver.waitFor(2, 15_000);
    const gap = second.receivedAt - first.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(4_950);
    expect(gap).toBeLessThan(6_000);
    expect(second.headers['x-webhook-attempt']).toBe('2');
    await eventually(() => expect(receiver.requests).toHaveLength(2));
  });
});
