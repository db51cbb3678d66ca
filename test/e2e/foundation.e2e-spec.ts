import { createHmac } from 'node:crypto';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { EventEnvelope, serializeEnvelope, SubjectNames } from '@hookhub/contracts';
import { eventually } from '../support/eventually';
import { startHub, RunningHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const SECRET = 'whisper-secret-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the hub end to end: publish, record, fan out, sign, deliver', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let db: Client;
  let nc: NatsConnection;
  let full: TestReceiver;
  let thin: TestReceiver;
  let tenant: { tenantId: string; adminKey: string; keyId: string };
  let publisherKey: string;
  let readerKey: string;
  let fullSubId: string;
  let thinSubId: string;

  const streamMessages = async (): Promise<number> => {
    const jsm = await nc.jetstreamManager();
    return (await jsm.streams.info(new SubjectNames(env.prefix).eventsStream)).state.messages;
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    nc = await connect({ servers: env.natsUrl });
    full = await new TestReceiver().start();
    thin = await new TestReceiver().start();
    tenant = await hub.api.createTenant('Acme');
    publisherKey = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
    readerKey = (await hub.api.createKey(tenant.tenantId, ['reader'])).key;

    const f = await hub.api.request<{ id: string; secret: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${full.url}/hooks/full`, event_types: ['ticket.*'], secret: SECRET, headers: { 'X-Customer-Key': 'k-123' } },
    });
    expect(f.status).toBe(201);
    expect(f.body.secret).toBe(SECRET);
    fullSubId = f.body.id;
    const t = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${thin.url}/hooks/thin`, event_types: ['ticket.created', 'ticket.updated'], format: 'thin' },
    });
    expect(t.status).toBe(201);
    thinSubId = t.body.id;
  });

  afterAll(async () => {
    await hub?.close();
    await full?.stop();
    await thin?.stop();
    await nc?.close();
    await db?.end();
    await env?.teardown();
  });

  it('delivers ticket.created then ticket.updated, signed, in both formats, and records everything', async () => {
    const ticketId = 'a52ec86';
    const model1 = { id: ticketId, number: 53249, state: 'open', subject: 'email from customer', label_ids: [] };
    const model2 = { ...model1, subject: 'Refund request', label_ids: ['97b0a40'] };
    const published = [
      {
        id: 'evt-created-1',
        type: 'ticket.created',
        created_at: '2016-10-17T19:52:43Z',
        model_id: ticketId,
        model: model1,
        actor_type: 'user',
        actor_id: 'a91bb75',
        actor_name: 'Michelle Han',
      },
      {
        id: 'evt-updated-1',
        type: 'ticket.updated',
        created_at: '2016-10-17T19:53:10Z',
        model_id: ticketId,
        model: model2,
        data: { changes: { subject: ['email from customer', 'Refund request'] } },
      },
    ];
    for (const body of published) {
      const res = await hub.api.request('POST', '/v1/events', { token: publisherKey, body });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ id: body.id, duplicate: false, schema_version: 1, deprecated: false });
    }

    const fullRequests = await full.waitFor(2);
    const thinRequests = await thin.waitFor(2);

    const expected: EventEnvelope[] = published.map((p) => ({
      id: p.id,
      account_id: tenant.tenantId,
      account_url: '',
      created_at: p.created_at,
      type: p.type,
      data: p.data ?? {},
      actor_type: p.actor_type ?? null,
      actor_id: p.actor_id ?? null,
      actor_name: p.actor_name ?? null,
      model_type: 'ticket',
      model_id: ticketId,
      model: p.model,
    }));
    expect(fullRequests.map((r) => r.raw.toString('utf8'))).toEqual(expected.map(serializeEnvelope));
    for (const [i, r] of fullRequests.entries()) {
      expect(r.method).toBe('POST');
      expect(r.url).toBe('/hooks/full');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-webhook-event']).toBe(published[i].type);
      expect(r.headers['x-webhook-delivery']).toMatch(UUID);
      expect(r.headers['x-webhook-subscription']).toBe(fullSubId);
      expect(r.headers['x-customer-key']).toBe('k-123');
      const expectedSig = createHmac('sha256', SECRET).update(r.raw).digest('hex');
      expect(r.headers['x-webhook-signature']).toBe(`sha256=${expectedSig}`);
    }

    expect(thinRequests.map((r) => r.json())).toEqual([
      { data: { status: 'CREATION', params: { id: ticketId }, resource: `/v0/tickets/${ticketId}` }, tenant_id: tenant.tenantId, topic: 'sac_ticket' },
      { data: { status: 'UPDATE', params: { id: ticketId }, resource: `/v0/tickets/${ticketId}` }, tenant_id: tenant.tenantId, topic: 'sac_ticket' },
    ]);
    expect(thinRequests.every((r) => r.headers['x-webhook-subscription'] === thinSubId)).toBe(true);
    expect(thinRequests.every((r) => /^sha256=[0-9a-f]{64}$/.test(String(r.headers['x-webhook-signature'])))).toBe(true);

    const log = await db.query(
      `SELECT id, version, change_status FROM events WHERE tenant_id = $1 AND model_type = 'ticket' AND model_id = $2 ORDER BY version`,
      [tenant.tenantId, ticketId],
    );
    expect(log.rows).toEqual([
      { id: 'evt-created-1', version: 1, change_status: 'CREATION' },
      { id: 'evt-updated-1', version: 2, change_status: 'UPDATE' },
    ]);
    const snapshot = await db.query(`SELECT version, model FROM snapshots WHERE tenant_id = $1 AND model_id = $2`, [tenant.tenantId, ticketId]);
    expect(snapshot.rows).toEqual([{ version: 2, model: model2 }]);
    const resource = await hub.api.request('GET', `/v0/tickets/${ticketId}`, { token: readerKey });
    expect(resource.status).toBe(200);
    expect(resource.body).toEqual(model2);

    const deliveryIds = [...fullRequests, ...thinRequests].map((r) => r.headers['x-webhook-delivery']);
    await eventually(async () => {
      const rows = await db.query(
        `SELECT d.id, d.status, d.last_status_code, d.attempt_count, a.response_status, a.outcome
           FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.id = ANY($1)`,
        [deliveryIds],
      );
      expect(rows.rows).toHaveLength(4);
      for (const row of rows.rows) {
        expect(row).toMatchObject({ status: 'delivered', last_status_code: 200, attempt_count: 1, response_status: 200, outcome: 'success' });
      }
    });
  });

  it('purges a deleted ticket: 410 from the resource API, no model in the snapshot or the log', async () => {
    const ticketId = 'to-delete';
    const model = { id: ticketId, state: 'open', subject: 'card number 4111…' };
    for (const body of [
      { id: 'evt-del-1', type: 'ticket.created', model_id: ticketId, model },
      { id: 'evt-del-2', type: 'ticket.deleted', model_id: ticketId, model: null },
    ]) {
      expect((await hub.api.request('POST', '/v1/events', { token: publisherKey, body })).status).toBe(202);
    }
    await eventually(async () => {
      const res = await hub.api.request<{ status: number }>('GET', `/v0/tickets/${ticketId}`, { token: readerKey });
      expect(res.status).toBe(410);
      expect(res.text).not.toContain('card number');
    });
    const snap = await db.query(`SELECT model, deleted_at IS NOT NULL AS deleted FROM snapshots WHERE model_id = $1`, [ticketId]);
    expect(snap.rows).toEqual([{ model: null, deleted: true }]);
    const log = await db.query(`SELECT envelope::text AS e FROM events WHERE model_id = $1 ORDER BY version`, [ticketId]);
    expect(log.rows).toHaveLength(2);
    for (const row of log.rows) expect(row.e).not.toContain('card number');
    // A late update cannot bring the data back.
    await hub.api.request('POST', '/v1/events', { token: publisherKey, body: { id: 'evt-del-3', type: 'ticket.updated', model_id: ticketId, model } });
    await eventually(async () => {
      const v = await db.query(`SELECT version, model FROM snapshots WHERE model_id = $1`, [ticketId]);
      expect(v.rows).toEqual([{ version: 3, model: null }]);
    });
    expect((await hub.api.request('GET', `/v0/tickets/${ticketId}`, { token: readerKey })).status).toBe(410);
  });

  it('stores and delivers an event published twice with the same id only once', async () => {
    const body = { id: 'evt-dup-1', type: 'ticket.created', model_id: 'dup-ticket', model: { id: 'dup-ticket', state: 'open' } };
    const first = await hub.api.request('POST', '/v1/events', { token: publisherKey, body });
    const second = await hub.api.request('POST', '/v1/events', { token: publisherKey, body });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual({ id: 'evt-dup-1', duplicate: true, schema_version: 1, deprecated: false });

    // Past JetStream's duplicate window the same event can reach the stream again; the event log still refuses it.
    const envelope = { ...body, account_id: tenant.tenantId, account_url: '', created_at: new Date().toISOString(), data: {}, model_type: 'ticket' };
    await nc.jetstream().publish(new SubjectNames(env.prefix).event(tenant.tenantId, 'ticket.created'), Buffer.from(JSON.stringify(envelope)), {
      msgID: 'outside-the-window',
    });
    // A later event proves the dispatcher has processed everything before it.
    await hub.api.request('POST', '/v1/events', { token: publisherKey, body: { ...body, id: 'evt-dup-marker', model_id: 'marker', model: { id: 'marker' } } });
    await eventually(async () => {
      const marker = await db.query(`SELECT status FROM deliveries WHERE event_id = 'evt-dup-marker' AND subscription_id = $1`, [fullSubId]);
      expect(marker.rows).toEqual([{ status: 'delivered' }]);
    });

    const events = await db.query(`SELECT count(*)::int AS n FROM events WHERE id = 'evt-dup-1'`);
    expect(events.rows[0].n).toBe(1);
    const deliveries = await db.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = 'evt-dup-1' AND subscription_id = $1`, [fullSubId]);
    expect(deliveries.rows[0].n).toBe(1);
    expect(full.requests.filter((r) => (r.json() as { id: string }).id === 'evt-dup-1')).toHaveLength(1);
  });

  it.each([
    ['missing type', { model_id: 'x', model: { id: 'x' } }, 400],
    ['unknown type', { type: 'ticket.exploded', model_id: 'x', model: { id: 'x' } }, 422],
    ['model not matching the schema', { type: 'ticket.created', model_id: 'x', model: { id: 'x', state: 42 } }, 422],
    ['unknown field', { type: 'ticket.created', model_id: 'x', model: { id: 'x' }, colour: 'red' }, 400],
    ['model id mismatch', { type: 'ticket.created', model_id: 'x', model: { id: 'y' } }, 422],
    ['other tenant', { type: 'ticket.created', model_id: 'x', model: { id: 'x' }, account_id: '00000000-0000-4000-8000-000000000000' }, 403],
  ])('refuses an event with %s with a problem document and publishes nothing', async (_name, body, status) => {
    const before = await streamMessages();
    const res = await hub.api.request<{ type: string; status: number; title: string; detail: string }>('POST', '/v1/events', { token: publisherKey, body });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\//), title: expect.any(String), detail: expect.any(String) });
    expect(await streamMessages()).toBe(before);
  });

  it('refuses bad JSON, an oversized body, a non-JSON body and a missing or weak key, publishing nothing', async () => {
    const before = await streamMessages();
    const bad = await hub.api.request<{ status: number }>('POST', '/v1/events', { token: publisherKey, rawBody: '{"type": "ticket.created",' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.body.status).toBe(400);

    const huge = { type: 'ticket.created', model_id: 'big', model: { id: 'big', subject: 'x'.repeat(300 * 1024) } };
    const big = await hub.api.request<{ status: number }>('POST', '/v1/events', { token: publisherKey, body: huge });
    expect(big.status).toBe(413);
    expect(big.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const form = await hub.api.request('POST', '/v1/events', {
      token: publisherKey,
      rawBody: 'type=ticket.created',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);

    const valid = { type: 'ticket.created', model_id: 'k', model: { id: 'k' } };
    expect((await hub.api.request('POST', '/v1/events', { body: valid })).status).toBe(401);
    expect((await hub.api.request('POST', '/v1/events', { token: 'hh_not-a-key', body: valid })).status).toBe(401);
    expect((await hub.api.request('POST', '/v1/events', { token: readerKey, body: valid })).status).toBe(403);
    expect(await streamMessages()).toBe(before);
  });
});
