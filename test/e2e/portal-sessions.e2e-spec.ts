import { createHash } from 'node:crypto';
import { ApiClient, RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { Client } from 'pg';

interface Session {
  id: string;
  tenant_id: string;
  api_key_id: string;
  role: string;
  expires_at: string;
  revoked_at: string | null;
  token: string;
  portal_path: string;
}

/**
 * Portal sessions (#14): the platform opens a short-lived, tenant-scoped
 * session under one of the tenant's keys; the API takes its token as the
 * tenant's credential with the session's role, and refuses it as soon as the
 * session or its key is revoked, or it has expired.
 */
describe('portal sessions', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let api: ApiClient;
  let db: Client;
  let receiver: TestReceiver;
  let a: { tenantId: string; adminKey: string; keyId: string };
  let b: { tenantId: string; adminKey: string; keyId: string };

  const open = (tenantId: string, body: Record<string, unknown>) =>
    api.request<Session>('POST', `/v1/tenants/${tenantId}/portal-sessions`, { token: env.adminToken, body });
  const opened = async (body: Record<string, unknown>, tenantId = a.tenantId): Promise<Session> => {
    const res = await open(tenantId, body);
    expect(res.status).toBe(201);
    return res.body;
  };
  const status = (method: string, path: string, token: string, body?: unknown) => api.request(method, path, { token, body }).then((r) => r.status);

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    api = hub.api;
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    receiver = await new TestReceiver().start();
    a = await api.createTenant('A');
    b = await api.createTenant('B');
  });
  afterAll(async () => {
    await hub?.close();
    await db?.end();
    await receiver?.stop();
    await env?.teardown();
  });

  it('opens a session whose token is shown once, stored only as a hash, with a portal link carrying it in the fragment', async () => {
    const before = Date.now();
    const s = await opened({ api_key_id: a.keyId, role: 'reader' });
    expect(s.token).toMatch(/^hhp_[A-Za-z0-9_-]{43}$/);
    expect(s.portal_path).toBe(`/portal/#session=${s.token}`);
    expect(s).toMatchObject({ tenant_id: a.tenantId, api_key_id: a.keyId, role: 'reader', revoked_at: null });
    // One hour by default.
    expect(Date.parse(s.expires_at) - before).toBeGreaterThan(3_590_000);
    expect(Date.parse(s.expires_at) - before).toBeLessThan(3_610_000);
    const rows = await db.query('SELECT * FROM portal_sessions WHERE id = $1', [s.id]);
    expect(rows.rows[0].token_hash).toBe(createHash('sha256').update(s.token).digest('hex'));
    expect(JSON.stringify(rows.rows[0])).not.toContain(s.token);
    const list = await api.request<{ items: Array<Record<string, unknown>> }>('GET', `/v1/tenants/${a.tenantId}/portal-sessions`, { token: env.adminToken });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i) => i.id)).toContain(s.id);
    expect(list.text).not.toContain(s.token);
  });

  it('a reader session reads the tenant (and only its tenant) and changes nothing', async () => {
    const s = await opened({ api_key_id: a.keyId, role: 'reader', expires_in_ms: 600_000 });
    expect(await status('GET', '/v1/subscriptions', s.token)).toBe(200);
    const me = await api.request<Record<string, unknown>>('GET', '/v1/me', { token: s.token });
    expect(me.body).toEqual({ tenant_id: a.tenantId, api_key_id: a.keyId, roles: ['reader'], session: { id: s.id, role: 'reader', expires_at: s.expires_at } });
    const forbidden = await api.request<{ type: string; detail: string }>('POST', '/v1/subscriptions', {
      token: s.token,
      body: { url: `${receiver.url}/r`, event_types: ['ticket.created'] },
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toContain('application/problem+json');
    expect(forbidden.body.detail).toBe('A reader portal session may only read');
    // Another tenant's subscription is as invisible to it as to the tenant's keys.
    const other = await api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: b.adminKey,
      body: { url: `${receiver.url}/b`, event_types: ['ticket.created'] },
    });
    expect(await status('GET', `/v1/subscriptions/${other.body.id}`, s.token)).toBe(404);
    // Signing out ends it.
    expect(await status('DELETE', '/v1/me/session', s.token)).toBe(204);
    const after = await api.request<{ detail: string }>('GET', '/v1/subscriptions', { token: s.token });
    expect(after.status).toBe(401);
    expect(after.body.detail).toBe('The portal session was revoked');
  });

  it('an admin session manages subscriptions, which belong to its key, but not API keys', async () => {
    const s = await opened({ api_key_id: a.keyId, role: 'admin' });
    const sub = await api.request<{ id: string; api_key_id: string; secret: string }>('POST', '/v1/subscriptions', {
      token: s.token,
      body: { url: `${receiver.url}/admin-session`, event_types: ['ticket.created'] },
    });
    expect(sub.status).toBe(201);
    expect(sub.body.api_key_id).toBe(a.keyId);
    expect(await status('POST', `/v1/subscriptions/${sub.body.id}/disable`, s.token)).toBe(200);
    const keys = await api.request<{ detail: string }>('GET', '/v1/api-keys', { token: s.token });
    expect(keys.status).toBe(403);
    expect(keys.body.detail).toContain('portal session cannot manage API keys');
    expect(await status('POST', '/v1/api-keys', s.token, { name: 'minted', roles: ['admin'] })).toBe(403);
    expect(await status('DELETE', '/v1/me/session', a.adminKey)).toBe(404);
  });

  it('revoking the session ends it at once', async () => {
    const s = await opened({ api_key_id: a.keyId, role: 'admin' });
    expect(await status('GET', '/v1/subscriptions', s.token)).toBe(200);
    expect(await status('DELETE', `/v1/tenants/${a.tenantId}/portal-sessions/${s.id}`, env.adminToken)).toBe(204);
    expect(await status('GET', '/v1/subscriptions', s.token)).toBe(401);
    // Revoked twice, or by another tenant's path: 404.
    expect(await status('DELETE', `/v1/tenants/${a.tenantId}/portal-sessions/${s.id}`, env.adminToken)).toBe(404);
    const t = await opened({ api_key_id: a.keyId, role: 'reader' });
    expect(await status('DELETE', `/v1/tenants/${b.tenantId}/portal-sessions/${t.id}`, env.adminToken)).toBe(404);
    expect(await status('GET', '/v1/subscriptions', t.token)).toBe(200);
  });

  it('revoking the API key the session was made under ends the session at once', async () => {
    const key = await api.createKey(a.tenantId, ['admin']);
    const s = await opened({ api_key_id: key.id, role: 'admin' });
    expect(await status('GET', '/v1/subscriptions', s.token)).toBe(200);
    expect(await status('DELETE', `/v1/api-keys/${key.id}`, a.adminKey)).toBe(204);
    const after = await api.request<{ detail: string }>('GET', '/v1/subscriptions', { token: s.token });
    expect(after.status).toBe(401);
    expect(after.body.detail).toBe('The portal session ended: the API key it was made under was revoked');
  });

  it('an expired session is refused', async () => {
    const s = await opened({ api_key_id: a.keyId, role: 'reader', expires_in_ms: 1_000 });
    expect(await status('GET', '/v1/subscriptions', s.token)).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(s.expires_at) - Date.now()) + 50));
    const after = await api.request<{ detail: string }>('GET', '/v1/subscriptions', { token: s.token });
    expect(after.status).toBe(401);
    expect(after.body.detail).toBe('The portal session has expired');
    expect(await status('GET', '/v1/subscriptions', `hhp_${'x'.repeat(43)}`)).toBe(401);
  });

  it('refuses bad requests with problems', async () => {
    const reader = await api.createKey(a.tenantId, ['reader']);
    const publisher = await api.createKey(a.tenantId, ['publisher']);
    const cases: Array<[Record<string, unknown>, number, string?]> = [
      [{ api_key_id: a.keyId, role: 'publisher' }, 400],
      [{ api_key_id: a.keyId }, 400],
      [{ role: 'admin' }, 400],
      [{ api_key_id: 'nope', role: 'admin' }, 400],
      [{ api_key_id: a.keyId, role: 'admin', expires_in_ms: 86_400_001 }, 400],
      [{ api_key_id: a.keyId, role: 'admin', expires_in_ms: 999 }, 400],
      [{ api_key_id: a.keyId, role: 'admin', expires_in_ms: '60000' }, 400],
      [{ api_key_id: a.keyId, role: 'admin', extra: 1 }, 400],
      [{ api_key_id: b.keyId, role: 'admin' }, 422, "is not one of the tenant's API keys"],
      [{ api_key_id: reader.id, role: 'admin' }, 422, 'without the admin role'],
      [{ api_key_id: publisher.id, role: 'reader' }, 422, 'without the admin or reader role'],
    ];
    for (const [body, expected, detail] of cases) {
      const res = await open(a.tenantId, body);
      expect({ body, status: res.status }).toEqual({ body, status: expected });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      if (detail) expect((res.body as unknown as { detail: string }).detail).toContain(detail);
    }
    expect((await open('00000000-0000-4000-8000-000000000000', { api_key_id: a.keyId, role: 'admin' })).status).toBe(404);
    // The reader key may make a reader session; the tenant's own key is no admin token.
    expect((await open(a.tenantId, { api_key_id: reader.id, role: 'reader' })).status).toBe(201);
    expect(await status('POST', `/v1/tenants/${a.tenantId}/portal-sessions`, a.adminKey, { api_key_id: a.keyId, role: 'admin' })).toBe(401);
    const session = await opened({ api_key_id: a.keyId, role: 'admin' });
    expect(await status('POST', `/v1/tenants/${a.tenantId}/portal-sessions`, session.token, { api_key_id: a.keyId, role: 'admin' })).toBe(401);
    expect((await db.query('SELECT count(*)::int AS n FROM portal_sessions WHERE tenant_id = $1', [b.tenantId])).rows[0].n).toBe(0);
  });
});
