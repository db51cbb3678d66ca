import { randomUUID } from 'node:crypto';
import { startTenantHub, stopTenantHub, TenantHub } from '../support/tenant-hub';

interface StorageBody {
  retention: { events_days: number; deliveries_days: number; callbacks_days: number };
  partitions_ahead_days: number;
  archive: string | null;
  tables: Array<{ table: string; partitions: number; bytes: number; oldest_day: string | null; next_expiry: string | null }>;
  partitions: Array<{ table: string; name: string; day: string; attached: boolean; expires_at: string }>;
  next_expiry: string | null;
}

/** The storage routes of the README's "Storage and retention": the report, and a tenant's shorter retention. */
describe('storage and retention API', () => {
  let ctx: TenantHub;

  beforeAll(async () => {
    ctx = await startTenantHub({ EVENTS_RETENTION_DAYS: 30, DELIVERIES_RETENTION_DAYS: 30, CALLBACKS_RETENTION_DAYS: 14, PARTITIONS_AHEAD_DAYS: 3 });
  }, 60_000);
  afterAll(() => stopTenantHub(ctx));

  const admin = (method: string, path: string, body?: unknown) => ctx.hub.api.request(method, path, { token: ctx.env.adminToken, body });

  it('GET /v1/admin/storage shows every partitioned table with its partitions ahead of today, sizes and the next expiry', async () => {
    const res = await admin('GET', '/v1/admin/storage');
    expect(res.status).toBe(200);
    const body = res.body as unknown as StorageBody;
    expect(body.retention).toEqual({ events_days: 30, deliveries_days: 30, callbacks_days: 14 });
    expect(body.archive).toBeNull();
    expect(body.tables.map((t) => t.table).sort()).toEqual(['deliveries', 'delivery_attempts', 'events', 'provider_callbacks']);
    const today = new Date().toISOString().slice(0, 10);
    const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    for (const table of ['events', 'deliveries', 'delivery_attempts', 'provider_callbacks']) {
      const days = body.partitions.filter((p) => p.table === table && p.attached).map((p) => p.day);
      expect(days).toEqual(expect.arrayContaining([today, inThreeDays]));
    }
    // A partition expires a whole day after its retention: the callbacks of today go 15 days from today's midnight.
    const callbacksToday = body.partitions.find((p) => p.table === 'provider_callbacks' && p.day === today)!;
    expect(new Date(callbacksToday.expires_at).getTime() - new Date(`${today}T00:00:00Z`).getTime()).toBe(15 * 86_400_000);
    expect(body.tables.every((t) => t.bytes > 0 && t.partitions >= 4)).toBe(true);
    expect(body.next_expiry).toEqual(expect.any(String));
  });

  it('is for the platform admin only', async () => {
    const res = await ctx.hub.api.request('GET', '/v1/admin/storage', { token: ctx.tenant.adminKey });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it("sets and shows a tenant's shorter retention; longer than the deployment's is refused with a problem naming the field, and changes nothing", async () => {
    const path = `/v1/tenants/${ctx.tenant.tenantId}/retention`;
    const set = await admin('PUT', path, { events_days: 7, deliveries_days: null, callbacks_days: 3 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      tenant_id: ctx.tenant.tenantId,
      overrides: { events_days: 7, deliveries_days: null, callbacks_days: 3 },
      effective: { events_days: 7, deliveries_days: 30, callbacks_days: 3 },
    });

    const tooLong = await admin('PUT', path, { events_days: 31, deliveries_days: null, callbacks_days: null });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({
      type: expect.stringMatching(/retention-too-long$/),
      errors: [{ pointer: '#/events_days', detail: expect.stringContaining('at most 30 (EVENTS_RETENTION_DAYS)') }],
    });
    const bad = await admin('PUT', path, { events_days: 0, deliveries_days: 'ten', callbacks_days: null });
    expect(bad.status).toBe(400);
    expect((bad.body as { errors: Array<{ pointer: string }> }).errors.map((e) => e.pointer).sort()).toEqual(['#/deliveries_days', '#/events_days']);

    const shown = await admin('GET', path);
    expect(shown.body).toEqual(set.body);
    expect((await admin('PUT', `/v1/tenants/${randomUUID()}/retention`, { events_days: 1, deliveries_days: 1, callbacks_days: 1 })).status).toBe(404);
  });
});
