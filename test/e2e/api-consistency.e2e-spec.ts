import { createHmac, randomUUID } from 'node:crypto';
import { ProviderCallbackRepository } from '@hookhub/persistence';
import { eventually } from '../support/eventually';
import type { ApiResponse } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';

type Page<T> = { items: T[]; next_cursor: string | null };
type Problem = { type: string; title: string; status: number; detail: string; errors?: Array<{ pointer: string; detail: string }> };
type Subscription = { id: string; state: string; state_reason: string | null; api_key_id: string | null };
type Delivery = { id: string; status: string; event_id: string; event_url: string; reason: string | null };

const INGEST_PUBLIC_URL = 'https://hooks.acme.example/base';

/** What issue 19 asked of the API's consistency: one list shape, clear messages, visible blocked subscriptions, readable events. */
describe('API consistency', () => {
  let ctx: TenantHub;
  let receiver: TestReceiver;
  const api = () => ctx.hub.api;
  const admin = () => ctx.tenant.adminKey;

  beforeAll(async () => {
    receiver = await new TestReceiver().start();
    ctx = await startTenantHub({ INGEST_PUBLIC_URL });
  });

  afterAll(async () => {
    await stopTenantHub(ctx);
    await receiver?.stop();
  });

  /** Every item of a list, page by page, checking each page's shape. */
  async function walk<T extends { id: string }>(path: string, token: string): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse<Page<T>> = await api().request<Page<T>>('GET', `${path}?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['items', 'next_cursor']);
      all.push(...res.body.items);
      cursor = res.body.next_cursor;
    } while (cursor);
    return all;
  }

  describe('lists', () => {
    it('GET /v1/api-keys pages with {items, next_cursor}, newest first', async () => {
      const extra = await api().createKey(ctx.tenant.tenantId, ['reader']);
      const keys = await walk<{ id: string; name: string }>('/v1/api-keys', admin());
      expect(keys.length).toBeGreaterThanOrEqual(3);
      expect(new Set(keys.map((k) => k.id)).size).toBe(keys.length);
      expect(keys[0].id).toBe(extra.id);
    });

    it('the platform admin lists tenants with keyset paging; a tenant key may not', async () => {
      const other = await api().createTenant('Other');
      const tenants = await walk<{ id: string }>('/v1/tenants', ctx.env.adminToken);
      expect(tenants.map((t) => t.id)).toEqual([other.tenantId, ctx.tenant.tenantId]);
      expect((await api().request('GET', '/v1/tenants', { token: admin() })).status).toBe(401);
    });

    it('the catalogue and the providers come in the same shape', async () => {
      for (const path of ['/v1/event-types', '/v1/providers']) {
        const res = await api().request<Page<unknown>>('GET', path, { token: admin() });
        expect([path, res.status, res.body.next_cursor, res.body.items.length > 0]).toEqual([path, 200, null, true]);
      }
    });
  });

  describe('messages', () => {
    it('the admin token on a tenant route says the route needs a tenant API key', async () => {
      const res = await api().request<Problem>('GET', '/v1/subscriptions', { token: ctx.env.adminToken });
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/needs a tenant API key/);
      const unknown = await api().request<Problem>('GET', '/v1/subscriptions', { token: 'hh_not-a-key' });
      expect(unknown.body.detail).toBe('The API key is unknown or revoked');
    });

    it('an ftp:// URL in development says the scheme must be http or https', async () => {
      const res = await api().request<Problem>('POST', '/v1/subscriptions', { token: admin(), body: { url: 'ftp://example.com/x', event_types: ['*'] } });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([{ pointer: '#/url', detail: 'must use http or https, not ftp' }]);
    });

    it('a missing or malformed field gets one message', async () => {
      const missing = await api().request<Problem>('POST', '/v1/subscriptions', { token: admin(), body: { url: `${receiver.url}/x` } });
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toEqual([{ pointer: '#/event_types', detail: 'event_types is required' }]);
      const notArray = await api().request<Problem>('POST', '/v1/subscriptions', {
        token: admin(),
        body: { url: `${receiver.url}/x`, event_types: 'ticket.created' },
      });
      expect(notArray.body.errors).toEqual([{ pointer: '#/event_types', detail: 'event_types must be an array' }]);
    });

    it('a model_type that does not fit the event type names the one expected', async () => {
      const res = await api().request<Problem>('POST', '/v1/events', {
        token: ctx.publisher,
        body: { type: 'ticket.created', model_type: 'message', model_id: 't-x', model: { id: 't-x' } },
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([{ pointer: '#/model_type', detail: 'must be "ticket"' }]);
    });

    it('every example of the catalogue can be published as it is', async () => {
      const catalogue = await api().request<Page<{ type: string; example: Record<string, unknown> }>>('GET', '/v1/event-types');
      for (const { type, example } of catalogue.body.items) {
        const res = await api().request('POST', '/v1/events', { token: ctx.publisher, body: example });
        expect([type, res.status, res.text]).toEqual([type, 202, expect.any(String)]);
      }
    });
  });

  describe('a subscription whose key was revoked', () => {
    const secret = 'blocked-secret-0123456789';

    it('shows blocked with the reason, filters by it, and moves to another admin key keeping its id and secret', async () => {
      const creator = await api().createKey(ctx.tenant.tenantId, ['admin']);
      const id = await subscribe(
        { ...ctx, tenant: { ...ctx.tenant, adminKey: creator.key } },
        { url: `${receiver.url}/blocked`, event_types: ['ticket.*'], secret },
      );
      const get = () => api().request<Subscription>('GET', `/v1/subscriptions/${id}`, { token: admin() });
      expect((await get()).body).toMatchObject({ state: 'active', state_reason: null, api_key_id: creator.id });

      expect((await api().request('DELETE', `/v1/api-keys/${creator.id}`, { token: admin() })).status).toBe(204);
      expect((await get()).body).toMatchObject({ state: 'blocked', state_reason: expect.stringContaining('was revoked'), api_key_id: creator.id });
      const blocked = await api().request<Page<Subscription>>('GET', '/v1/subscriptions?state=blocked', { token: admin() });
      expect(blocked.body.items.map((s) => s.id)).toEqual([id]);
      const active = await api().request<Page<Subscription>>('GET', '/v1/subscriptions?state=active', { token: admin() });
      expect(active.body.items.map((s) => s.id)).not.toContain(id);

      // The send-time check stays: an event now is blocked, not delivered.
      await publishTicket('blocked-1');
      const blockedDelivery = await deliveryOf(id, 'blocked-1', 'blocked');
      expect(blockedDelivery.reason).toMatch(/was revoked/);
      expect((await api().request<Problem>('POST', `/v1/deliveries/${blockedDelivery.id}/retry`, { token: admin() })).status).toBe(409);

      // Only an unrevoked admin key of the same tenant will do.
      const reader = await api().createKey(ctx.tenant.tenantId, ['reader']);
      const stranger = await api().createTenant('Stranger');
      for (const [keyId, why] of [
        [creator.id, 'revoked'],
        [reader.id, 'admin role'],
        [stranger.keyId, "this tenant's"],
        [randomUUID(), "this tenant's"],
      ]) {
        const res = await api().request<Problem>('PATCH', `/v1/subscriptions/${id}`, { token: admin(), body: { api_key_id: keyId } });
        expect([res.status, res.body.errors?.[0]?.pointer, res.body.detail]).toEqual([422, '#/api_key_id', expect.stringContaining(why)]);
      }

      const successor = await api().createKey(ctx.tenant.tenantId, ['admin']);
      const moved = await api().request<Subscription>('PATCH', `/v1/subscriptions/${id}`, { token: admin(), body: { api_key_id: successor.id } });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ id, state: 'active', state_reason: null, api_key_id: successor.id });

      await publishTicket('blocked-2');
      await deliveryOf(id, 'blocked-2', 'delivered');
      const sent = receiver.requests.find((r) => r.url === '/blocked' && (r.json() as { id: string }).id === 'blocked-2');
      expect(sent?.headers['x-webhook-signature']).toBe(`sha256=${createHmac('sha256', secret).update(sent!.raw).digest('hex')}`);
    });
  });

  describe('provider connections', () => {
    it('give the full URL the provider must call, and the stored bodies as text when they are text', async () => {
      const created = await api().request<{ id: string; ingest_path: string; ingest_url: string }>('POST', '/v1/provider-connections', {
        token: admin(),
        body: { provider: 'twilio_sms', credentials: { auth_token: 'token-0123456789' } },
      });
      expect(created.status).toBe(201);
      expect(created.body.ingest_url).toBe(`${INGEST_PUBLIC_URL}/ingest/twilio_sms/${created.body.id}`);
      const publicUrl = `https://proxy.acme.example/in/${created.body.id}`;
      const patched = await api().request<{ ingest_url: string }>('PATCH', `/v1/provider-connections/${created.body.id}`, {
        token: admin(),
        body: { public_url: publicUrl },
      });
      expect(patched.body.ingest_url).toBe(publicUrl);

      const callbacks = ctx.hub.subscriptions.get(ProviderCallbackRepository);
      const bodies = { text: Buffer.from('MessageSid=SM1&Body=Ol%C3%A1 — ✓'), binary: Buffer.from([0xff, 0x00, 0x10, 0x80]) };
      for (const [name, body] of Object.entries(bodies)) {
        const id = randomUUID();
        await callbacks.insertPending(
          {
            id,
            connectionId: created.body.id,
            tenantId: ctx.tenant.tenantId,
            provider: 'twilio_sms',
            digest: name,
            method: 'POST',
            url: created.body.ingest_path,
            headers: {},
            body,
            receivedAt: new Date(),
          },
          60_000,
        );
        const detail = await api().request<{ body: string; body_encoding: string }>('GET', `/v1/provider-connections/${created.body.id}/callbacks/${id}`, {
          token: admin(),
        });
        expect(detail.status).toBe(200);
        if (name === 'text') expect(detail.body).toMatchObject({ body: body.toString('utf8'), body_encoding: 'utf8' });
        else expect(detail.body).toMatchObject({ body: body.toString('base64'), body_encoding: 'base64' });
      }
    });
  });

  describe('events', () => {
    it('GET /v1/events/:id returns the recorded envelope to its tenant only; deliveries link to it', async () => {
      const subId = await subscribe(ctx, { url: `${receiver.url}/events`, event_types: ['ticket.created'] });
      await publishTicket('readable-1');
      const delivery = await deliveryOf(subId, 'readable-1', 'delivered');
      expect(delivery.event_url).toBe('/v1/events/readable-1');
      const read = await api().request<Record<string, unknown>>('GET', delivery.event_url, { token: ctx.publisher });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: 'readable-1', type: 'ticket.created', account_id: ctx.tenant.tenantId, model_id: 'readable-1' });

      const stranger = await api().createTenant('Reader elsewhere');
      for (const [path, token] of [
        ['/v1/events/readable-1', stranger.adminKey],
        ['/v1/events/never-published', admin()],
        ['/v1/events/bad%20id', admin()],
      ]) {
        const res = await api().request<Problem>('GET', path, { token });
        expect([path, res.status, res.headers.get('content-type'), res.body.detail]).toEqual([
          path,
          404,
          expect.stringContaining('application/problem+json'),
          'Event was not found',
        ]);
      }
    });
  });

  async function publishTicket(id: string): Promise<void> {
    const res = await api().request('POST', '/v1/events', { token: ctx.publisher, body: { id, type: 'ticket.created', model_id: id, model: { id } } });
    expect(res.status).toBe(202);
  }

  async function deliveryOf(subscriptionId: string, eventId: string, status: string): Promise<Delivery> {
    let found: Delivery | undefined;
    await eventually(async () => {
      const page = await api().request<Page<Delivery>>('GET', `/v1/subscriptions/${subscriptionId}/deliveries`, { token: admin() });
      found = page.body.items.find((d) => d.event_id === eventId);
      expect(found?.status).toBe(status);
    }, 15_000);
    return found!;
  }
});
