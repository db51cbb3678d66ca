import { createDecipheriv, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SubjectNames } from '@hookhub/contracts';
import { buildSubscriptionsApp } from '../../apps/subscriptions/src/build-subscriptions-app';
import { eventually } from '../support/eventually';
import { ApiClient, RunningHub, startHub } from '../support/hub';
import { ReceivedRequest, TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * Issue 11: promises of README.md that no other test pinned down. Each test
 * names the README lines it checks and asserts that promise and nothing else.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NS = 1_000_000;
const deliveryOf = (r: ReceivedRequest) => String(r.headers['x-webhook-delivery']);

interface Tenant {
  tenantId: string;
  adminKey: string;
  publisher: string;
  reader: string;
}

describe('README promises', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let db: Client;
  let nc: NatsConnection;
  let receiver: TestReceiver;
  let subjects: SubjectNames;
  let t: Tenant;
  /** Per-path answers; anything else gets 200 "ok". */
  const responders = new Map<
    string,
    (
      req: ReceivedRequest,
      n: number,
    ) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | Promise<{ status: number; body?: string }>
  >();
  const at = (path: string) => receiver.requests.filter((r) => r.url.split('?')[0] === path);
  let eventNo = 0;

  const newTenant = async (name: string): Promise<Tenant> => {
    const base = await hub.api.createTenant(name);
    return {
      ...base,
      publisher: (await hub.api.createKey(base.tenantId, ['publisher'])).key,
      reader: (await hub.api.createKey(base.tenantId, ['reader'])).key,
    };
  };
  const subscribe = async (body: Record<string, unknown>, tenant = t): Promise<{ id: string; secret: string; state: string }> => {
    const res = await hub.api.request<{ id: string; secret: string; state: string }>('POST', '/v1/subscriptions', { token: tenant.adminKey, body });
    if (res.status !== 201) throw new Error(`subscription failed: ${res.status} ${res.text}`);
    return res.body;
  };
  const publish = async (type: string, tenant = t, modelId?: string, model?: Record<string, unknown>): Promise<string> => {
    const id = `evt-rp-${++eventNo}`;
    const mid = modelId ?? id;
    const res = await hub.api.request('POST', '/v1/events', { token: tenant.publisher, body: { id, type, model_id: mid, model: model ?? { id: mid } } });
    if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${res.text}`);
    return id;
  };
  const deliveryRow = async (subId: string, eventId: string) =>
    (
      await db.query(`SELECT id, status, attempt_count, reason, parked, next_attempt_at FROM deliveries WHERE subscription_id = $1 AND event_id = $2`, [
        subId,
        eventId,
      ])
    ).rows[0];

  beforeAll(async () => {
    env = await createTestEnvironment();
    // Disabling and failing endpoints log warnings by design: keep a passing run quiet.
    hub = await startHub(env, { LOG_LEVEL: 'error' });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    nc = await connect({ servers: env.natsUrl });
    subjects = new SubjectNames(env.prefix);
    receiver = await new TestReceiver().start();
    receiver.respond = (req, i) => (responders.get(req.url.split('?')[0]) ?? (() => ({ status: 200, body: 'ok' })))(req, i);
    t = await newTenant('Acme');
  });

  afterAll(async () => {
    await hub?.close();
    await receiver?.stop();
    await nc?.close();
    await db?.end();
    await env?.teardown();
  });

  describe('JetStream settings (README 115-118, 394-401, 429-437)', () => {
    it('events stream: file storage, limits retention, max_age 7 days, duplicate_window 10 minutes, 1 replica; retries stream: work queue', async () => {
      const jsm = await nc.jetstreamManager();
      const events = (await jsm.streams.info(subjects.eventsStream)).config;
      expect(events).toMatchObject({ storage: 'file', retention: 'limits', max_age: 7 * 24 * 3_600_000 * NS, duplicate_window: 600_000 * NS, num_replicas: 1 });
      const retries = (await jsm.streams.info(subjects.retriesStream)).config;
      expect(retries).toMatchObject({ storage: 'file', retention: 'workqueue', num_replicas: 1 });
    });

    it('durable consumers "dispatcher" and "retry": explicit acks, ack_wait 60 s, max_deliver -1, no backoff, windows 10,000 and 100,000', async () => {
      const jsm = await nc.jetstreamManager();
      const dispatcher = (await jsm.consumers.info(subjects.eventsStream, 'dispatcher')).config;
      const retry = (await jsm.consumers.info(subjects.retriesStream, 'retry')).config;
      for (const c of [dispatcher, retry]) {
        expect(c).toMatchObject({ ack_policy: 'explicit', ack_wait: 60_000 * NS, max_deliver: -1 });
        expect(c.backoff ?? []).toEqual([]);
      }
      expect(dispatcher.durable_name).toBe('dispatcher');
      expect(retry.durable_name).toBe('retry');
      expect(dispatcher.max_ack_pending).toBe(10_000);
      expect(retry.max_ack_pending).toBe(100_000);
    });

    it('POST /v1/events publishes with Nats-Msg-Id <tenant>:<event id> (README 66-67)', async () => {
      const id = await publish('survey.response_completed', t, 'resp-msgid', { id: 'resp-msgid', survey_id: 's-1' });
      const jsm = await nc.jetstreamManager();
      const msg = await jsm.streams.getMessage(subjects.eventsStream, { last_by_subj: subjects.event(t.tenantId, 'survey.response_completed') });
      expect(msg.header.get('Nats-Msg-Id')).toBe(`${t.tenantId}:${id}`);
    });
  });

  describe('retries (README 115-135)', () => {
    it('a subscription without a policy retries after 1s, 5s, 30s, 5m, 30m, 2h (7 attempts): the first two gaps are 1 s and 5 s', async () => {
      responders.set('/default-policy', (_req, _i) => (at('/default-policy').length <= 2 ? { status: 503 } : { status: 200 }));
      const sub = await subscribe({ url: `${receiver.url}/default-policy`, event_types: ['ticket.created'] });
      const view = await hub.api.request<{ retry_policy_ms: number[] }>('GET', `/v1/subscriptions/${sub.id}`, { token: t.adminKey });
      expect(view.body.retry_policy_ms).toEqual([1_000, 5_000, 30_000, 300_000, 1_800_000, 7_200_000]);
      await publish('ticket.created');
      await eventually(() => expect(at('/default-policy')).toHaveLength(3), 12_000);
      const [a, b, c] = at('/default-policy');
      expect(b.receivedAt - a.receivedAt).toBeGreaterThanOrEqual(950);
      expect(b.receivedAt - a.receivedAt).toBeLessThan(1_600);
      expect(c.receivedAt - b.receivedAt).toBeGreaterThanOrEqual(4_950);
      expect(c.receivedAt - b.receivedAt).toBeLessThan(5_600);
      await hub.api.request('DELETE', `/v1/subscriptions/${sub.id}`, { token: t.adminKey });
    }, 20_000);

    it('a retry job is {delivery_id, subscription_id, attempt, due_at} on <P>_RETRIES with Nats-Msg-Id <delivery>:<attempt>:<due_at>', async () => {
      responders.set('/job', () => ({ status: 500 }));
      const sub = await subscribe({ url: `${receiver.url}/job`, event_types: ['ticket.created'], retry_policy_ms: [30_000] });
      const before = (await (await nc.jetstreamManager()).streams.info(subjects.retriesStream)).state.last_seq;
      const eventId = await publish('ticket.created');
      await eventually(async () => expect((await deliveryRow(sub.id, eventId))?.status).toBe('retrying'));
      const delivery = await deliveryRow(sub.id, eventId);
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(subjects.retriesStream);
      expect(info.state.last_seq).toBe(before + 1);
      const msg = await jsm.streams.getMessage(subjects.retriesStream, { seq: info.state.last_seq });
      const job = msg.json<{ delivery_id: string; subscription_id: string; attempt: number; due_at: number }>();
      expect(Object.keys(job).sort()).toEqual(['attempt', 'delivery_id', 'due_at', 'subscription_id']);
      expect(job).toMatchObject({ delivery_id: delivery.id, subscription_id: sub.id, attempt: 2 });
      expect(job.due_at).toBeGreaterThan(Date.now() + 25_000);
      expect(msg.header.get('Nats-Msg-Id')).toBe(`${delivery.id}:2:${job.due_at}`);
      await hub.api.request('DELETE', `/v1/subscriptions/${sub.id}`, { token: t.adminKey });
    });

    it('a retry job whose delivery is already delivered (sent again by hand meanwhile) is dropped', async () => {
      responders.set('/finished', (_req, _i) => (at('/finished').length === 1 ? { status: 503 } : { status: 200 }));
      const sub = await subscribe({ url: `${receiver.url}/finished`, event_types: ['ticket.created'], retry_policy_ms: [2_500] });
      const eventId = await publish('ticket.created');
      await eventually(async () => expect((await deliveryRow(sub.id, eventId))?.status).toBe('retrying'));
      const { id } = await deliveryRow(sub.id, eventId);
      expect((await hub.api.request('POST', `/v1/deliveries/${id}/retry`, { token: t.adminKey })).status).toBe(202);
      await eventually(async () => expect((await deliveryRow(sub.id, eventId)).status).toBe('delivered'));
      const sent = at('/finished').length;
      await sleep(3_000); // past the job's due time
      expect(at('/finished')).toHaveLength(sent);
      expect((await deliveryRow(sub.id, eventId)).status).toBe('delivered');
    });

    it('POST /v1/subscriptions/:id/disable cancels the waiting retries (README 229)', async () => {
      responders.set('/disable-me', () => ({ status: 503 }));
      const sub = await subscribe({ url: `${receiver.url}/disable-me`, event_types: ['ticket.created'], retry_policy_ms: [2_000] });
      const eventId = await publish('ticket.created');
      await eventually(async () => expect((await deliveryRow(sub.id, eventId))?.status).toBe('retrying'));
      expect((await hub.api.request('POST', `/v1/subscriptions/${sub.id}/disable`, { token: t.adminKey })).status).toBe(200);
      expect((await deliveryRow(sub.id, eventId)).status).toBe('cancelled');
      await sleep(2_500);
      expect(at('/disable-me')).toHaveLength(1);
    });

    it('DELETE /v1/subscriptions/:id drops a retry job already on the stream (README 173-175)', async () => {
      responders.set('/delete-me', () => ({ status: 503 }));
      const sub = await subscribe({ url: `${receiver.url}/delete-me`, event_types: ['ticket.created'], retry_policy_ms: [2_000] });
      const eventId = await publish('ticket.created');
      await eventually(async () => expect((await deliveryRow(sub.id, eventId))?.status).toBe('retrying'));
      expect((await hub.api.request('DELETE', `/v1/subscriptions/${sub.id}`, { token: t.adminKey })).status).toBe(204);
      await sleep(2_500);
      expect(at('/delete-me')).toHaveLength(1);
      expect((await db.query(`SELECT count(*)::int AS n FROM deliveries WHERE subscription_id = $1`, [sub.id])).rows[0].n).toBe(0);
    });
  });

  it('a retry and a replay resend the same message (same X-Webhook-Delivery and webhook-id); events the subscription never received get new ids (README 79-88)', async () => {
    const own = await newTenant('Replay');
    // Recorded before the subscription existed.
    const before = new Date(Date.now() - 1_000).toISOString();
    const early = await publish('ticket.created', own);
    await eventually(async () => expect((await db.query(`SELECT 1 FROM events WHERE tenant_id = $1 AND id = $2`, [own.tenantId, early])).rowCount).toBe(1));
    const sub = await subscribe({ url: `${receiver.url}/resend`, event_types: ['ticket.created'], signature_scheme: 'standard-webhooks' }, own);
    const first = await publish('ticket.created', own);
    await eventually(() => expect(at('/resend')).toHaveLength(1));
    const original = at('/resend')[0];
    expect(original.headers['webhook-id']).toBe(deliveryOf(original));
    await eventually(async () => expect((await deliveryRow(sub.id, first)).status).toBe('delivered'));

    expect((await hub.api.request('POST', `/v1/deliveries/${deliveryOf(original)}/retry`, { token: own.adminKey })).status).toBe(202);
    await eventually(() => expect(at('/resend')).toHaveLength(2));
    const retried = at('/resend')[1];
    expect([deliveryOf(retried), retried.headers['webhook-id']]).toEqual([deliveryOf(original), deliveryOf(original)]);
    await eventually(async () => expect((await deliveryRow(sub.id, first)).attempt_count).toBe(2));

    const replay = await hub.api.request<{ queued: number }>('POST', `/v1/subscriptions/${sub.id}/replay`, { token: own.adminKey, body: { since: before } });
    expect(replay.status).toBe(202);
    expect(replay.body.queued).toBe(2);
    await eventually(() => expect(at('/resend')).toHaveLength(4));
    const replayed = new Map(
      at('/resend')
        .slice(2)
        .map((r) => [(r.json() as { id: string }).id, r]),
    );
    const again = replayed.get(first)!;
    expect([deliveryOf(again), again.headers['webhook-id']]).toEqual([deliveryOf(original), deliveryOf(original)]);
    const fresh = replayed.get(early)!;
    expect(fresh.headers['webhook-id']).toBe(deliveryOf(fresh));
    expect(deliveryOf(fresh)).not.toBe(deliveryOf(original));
    expect((await deliveryRow(sub.id, early)).id).toBe(deliveryOf(fresh));
  });

  it('a thin-notification receiver that fetches /v0/tickets/:id on arrival finds the snapshot announced (README 70-74)', async () => {
    const own = await newTenant('Thin');
    const fetched: Array<{ version: number; status: number; n: number | undefined }> = [];
    responders.set('/thin-fetch', async (req) => {
      const thin = req.json() as { data: { resource: string } };
      const res = await hub.api.request<{ n?: number }>('GET', thin.data.resource, { token: own.reader });
      fetched.push({ version: Number(req.headers['x-webhook-resource-version']), status: res.status, n: res.body?.n });
      return { status: 200 };
    });
    await subscribe({ url: `${receiver.url}/thin-fetch`, event_types: ['ticket.*'], format: 'thin' }, own);
    const count = 12;
    for (let n = 0; n < count; n++) {
      const res = await hub.api.request('POST', '/v1/events', {
        token: own.publisher,
        body: { id: `thin-${n}`, type: n === 0 ? 'ticket.created' : 'ticket.updated', model_id: 't-thin', model: { id: 't-thin', n } },
      });
      expect(res.status).toBe(202);
    }
    await eventually(() => expect(fetched).toHaveLength(count));
    for (const f of fetched) {
      // Version v was published with n = v - 1: the snapshot served is that one or a newer one, never an older one or none.
      expect({ version: f.version, status: f.status }).toEqual({ version: f.version, status: 200 });
      expect(f.n).toBeGreaterThanOrEqual(f.version - 1);
    }
  });

  it('webhook.disabled reaches subscriptions naming webhook.* but not a * subscription (README 159-162)', async () => {
    const own = await newTenant('Ops');
    responders.set('/ops-dead', () => ({ status: 500 }));
    await subscribe({ url: `${receiver.url}/ops-wild`, event_types: ['webhook.*'] }, own);
    await subscribe({ url: `${receiver.url}/ops-star`, event_types: ['*'] }, own);
    const dead = await subscribe(
      { url: `${receiver.url}/ops-dead`, event_types: ['ticket.created'], retry_policy_ms: Array.from({ length: 9 }, () => 50), disable_after_failing_ms: 0 },
      own,
    );
    const eventId = await publish('ticket.created', own);
    await eventually(() => expect(at('/ops-wild')).toHaveLength(1), 15_000);
    const notice = at('/ops-wild')[0];
    expect(notice.headers['x-webhook-event']).toBe('webhook.disabled');
    expect((notice.json() as { data: { subscription_id: string } }).data.subscription_id).toBe(dead.id);
    await sleep(500);
    // The * subscription got the ticket event and nothing operational.
    expect(at('/ops-star').map((r) => [r.headers['x-webhook-event'], (r.json() as { id: string }).id])).toEqual([['ticket.created', eventId]]);
  }, 25_000);

  describe('secrets and keys at rest (README 220, 223, 225)', () => {
    it('an API key is shown once and stored only as its SHA-256', async () => {
      const created = await hub.api.request<{ id: string; key: string }>('POST', '/v1/api-keys', {
        token: t.adminKey,
        body: { name: 'ci', roles: ['reader'] },
      });
      expect(created.status).toBe(201);
      const { id, key } = created.body;
      const row = await db.query(`SELECT key_hash, row_to_json(k)::text AS all_columns FROM api_keys k WHERE id = $1`, [id]);
      expect(row.rows[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
      expect(row.rows[0].all_columns).not.toContain(key);
      const listed = await hub.api.request('GET', '/v1/api-keys', { token: t.adminKey });
      expect(listed.status).toBe(200);
      expect(listed.text).toContain(id);
      expect(listed.text).not.toContain(key);
    });

    it('a signing secret is stored AES-256-GCM encrypted with SECRETS_ENCRYPTION_KEY', async () => {
      const secret = 'at-rest-secret-0123456789';
      const sub = await subscribe({ url: `${receiver.url}/at-rest`, event_types: ['ticket.resolved'], secret });
      const row = await db.query(`SELECT secret_ciphertext, row_to_json(s)::text AS all_columns FROM subscriptions s WHERE id = $1`, [sub.id]);
      expect(row.rows[0].all_columns).not.toContain(secret);
      const [version, iv, tag, data] = String(row.rows[0].secret_ciphertext).split('.');
      expect(version).toBe('v1');
      const decipher = createDecipheriv('aes-256-gcm', Buffer.from(env.encryptionKey, 'hex'), Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      expect(Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8')).toBe(secret);
    });

    it('rotate-secret without overlap_ms keeps the old secret signing for SECRET_ROTATION_OVERLAP_MS (24 h)', async () => {
      const sub = await subscribe({ url: `${receiver.url}/rotate-default`, event_types: ['ticket.resolved'] });
      const started = Date.now();
      const res = await hub.api.request<{ previous_secret_expires_at: string }>('POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {
        token: t.adminKey,
        body: {},
      });
      expect(res.status).toBe(200);
      const expires = Date.parse(res.body.previous_secret_expires_at);
      expect(expires).toBeGreaterThanOrEqual(started + 24 * 3_600_000 - 1_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000 + 1_000);
    });
  });

  it('PATCH with a new URL verifies the subscription again (README 224)', async () => {
    responders.set('/verify-old', (req) => {
      const url = new URL(req.url, 'http://x');
      return req.method === 'GET' ? { status: 200, body: url.searchParams.get('challenge') ?? '' } : { status: 200 };
    });
    const sub = await subscribe({ url: `${receiver.url}/verify-old`, event_types: ['ticket.resolved'], verify_token: 'tok-patch' });
    const state = async () => (await hub.api.request<{ state: string }>('GET', `/v1/subscriptions/${sub.id}`, { token: t.adminKey })).body.state;
    await eventually(async () => expect(await state()).toBe('active'));
    // The new endpoint does not echo the challenge.
    const res = await hub.api.request('PATCH', `/v1/subscriptions/${sub.id}`, { token: t.adminKey, body: { url: `${receiver.url}/verify-new` } });
    expect(res.status).toBe(200);
    await eventually(() => expect(at('/verify-new').filter((r) => r.method === 'GET')).toHaveLength(1));
    const probe = new URL(at('/verify-new')[0].url, 'http://x');
    expect(probe.searchParams.get('verifyToken')).toBe('tok-patch');
    expect(probe.searchParams.get('challenge')).toEqual(expect.any(String));
    await eventually(async () => expect(await state()).toBe('pending_verification'));
  });

  it('the delivery log filters by event_type, since and until, and pages with limit and cursor (README 230)', async () => {
    const own = await newTenant('Log');
    const sub = await subscribe({ url: `${receiver.url}/log`, event_types: ['ticket.created', 'ticket.resolved'] }, own);
    const created = [await publish('ticket.created', own), await publish('ticket.created', own)];
    await eventually(() => expect(at('/log')).toHaveLength(2));
    await sleep(50);
    const middle = new Date().toISOString();
    await sleep(50);
    const resolved = [await publish('ticket.resolved', own), await publish('ticket.resolved', own), await publish('ticket.resolved', own)];
    await eventually(() => expect(at('/log')).toHaveLength(5));
    const list = async (query: string) => {
      const res = await hub.api.request<{ items: Array<{ event_id: string }>; next_cursor: string | null }>(
        'GET',
        `/v1/subscriptions/${sub.id}/deliveries?${query}`,
        {
          token: own.adminKey,
        },
      );
      expect(res.status).toBe(200);
      return res.body;
    };
    const ids = (p: { items: Array<{ event_id: string }> }) => p.items.map((d) => d.event_id).sort();
    expect(ids(await list('event_type=ticket.created'))).toEqual([...created].sort());
    expect(ids(await list(`since=${encodeURIComponent(middle)}`))).toEqual([...resolved].sort());
    expect(ids(await list(`until=${encodeURIComponent(middle)}`))).toEqual([...created].sort());
    const seen: string[] = [];
    let page = await list('limit=2');
    for (;;) {
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((d) => d.event_id));
      if (!page.next_cursor) break;
      page = await list(`limit=2&cursor=${encodeURIComponent(page.next_cursor)}`);
    }
    expect(seen.sort()).toEqual([...created, ...resolved].sort());
  });

  it('a delivery shows each attempt: request headers with custom values redacted, response status, headers, duration, the first 4,096 body bytes, the error (README 231)', async () => {
    const long = 'x'.repeat(10_000);
    responders.set('/detail', () => ({ status: 500, body: long, headers: { 'x-endpoint': 'e-1' } }));
    const sub = await subscribe({
      url: `${receiver.url}/detail`,
      event_types: ['ticket.resolved'],
      retry_policy_ms: [],
      headers: { 'X-Api-Token': 'custom-value-42' },
    });
    const eventId = await publish('ticket.resolved');
    await eventually(async () => expect((await deliveryRow(sub.id, eventId))?.status).toBe('failed'));
    const { id } = await deliveryRow(sub.id, eventId);
    const res = await hub.api.request<{
      attempts: Array<{
        request_headers: Record<string, string>;
        response_status: number;
        response_headers: Record<string, string>;
        duration_ms: number;
        response_body: string;
        error: string | null;
      }>;
    }>('GET', `/v1/deliveries/${id}`, { token: t.adminKey });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('custom-value-42');
    const [a] = res.body.attempts;
    const headers = Object.fromEntries(Object.entries(a.request_headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(headers['x-api-token']).toBe('[redacted]');
    expect(headers['x-webhook-delivery']).toBe(id);
    // Rebuilt from the delivery (the attempt log keeps only each attempt's signatures and custom header names).
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'x-webhook-attempt': '1', 'x-webhook-subscription': sub.id });
    expect(Object.keys(headers).some((k) => /signature/.test(k))).toBe(true);
    expect(a.response_status).toBe(500);
    expect(a.response_headers['x-endpoint']).toBe('e-1');
    expect(a.duration_ms).toEqual(expect.any(Number));
    expect(a.response_body).toBe(long.slice(0, 4_096));
    expect(a.error).toEqual(expect.stringContaining('500'));
  });

  describe('public routes (README 235, 237, 238)', () => {
    it('GET /v1/event-types needs no credentials and gives a JSON Schema and an example for every type', async () => {
      const res = await hub.api.request<{ items: Array<{ type: string; schema: Record<string, unknown>; example: { type: string } }> }>(
        'GET',
        '/v1/event-types',
      );
      expect(res.status).toBe(200);
      const types = res.body.items.map((i) => i.type);
      expect(types).toEqual(expect.arrayContaining(['ticket.created', 'message.created', 'survey.response_completed', 'webhook.disabled']));
      for (const item of res.body.items) {
        expect(item.schema).toEqual(expect.objectContaining({ type: 'object' }));
        expect(item.example.type).toBe(item.type);
      }
    });

    it('/healthz and /readyz need no credentials; readiness checks NATS and PostgreSQL, on the API and on the dispatcher', async () => {
      for (const app of [hub.subscriptions, hub.dispatchers[0]]) {
        const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(200);
        expect(((await ready.json()) as { checks: Record<string, string> }).checks).toEqual({ nats: 'up', postgres: 'up' });
      }
    });

    it('the dispatcher /metrics has attempts by outcome, attempt latency, retries scheduled, deferrals, disabled subscriptions, consumer lag', async () => {
      const port = (hub.dispatchers[0].getHttpServer().address() as AddressInfo).port;
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const name of [
        'hookhub_delivery_attempts_total',
        'hookhub_delivery_attempt_duration_seconds',
        'hookhub_retries_scheduled_total',
        'hookhub_deliveries_deferred_total',
        'hookhub_subscriptions_disabled_total',
        'hookhub_consumer_lag',
      ]) {
        expect(metrics).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
      }
    });
  });

  it('every app keeps DATABASE_POOL_MIN connections open and sets the idle-in-transaction, lock and statement timeouts (README 384-387)', async () => {
    for (const app of [hub.subscriptions, hub.dispatchers[0]]) {
      const ds = app.get(DataSource);
      const runner = ds.createQueryRunner();
      try {
        const show = async (name: string) => (await runner.query(`SHOW ${name}`))[0][name];
        expect([await show('idle_in_transaction_session_timeout'), await show('lock_timeout'), await show('statement_timeout')]).toEqual(['10s', '5s', '30s']);
      } finally {
        await runner.release();
      }
    }
    // Two apps, at least four kept connections each.
    const open = await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    expect(open.rows[0].n).toBeGreaterThanOrEqual(8);
  });
});

describe('README promises: long retry delays are parked in PostgreSQL (README 128-131)', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let db: Client;
  let nc: NatsConnection;
  let receiver: TestReceiver;

  beforeAll(async () => {
    env = await createTestEnvironment();
    // The threshold shortened from 60 s so a parked retry comes due within the test.
    hub = await startHub(env, { LOG_LEVEL: 'error', RETRY_PARK_THRESHOLD_MS: 500 });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    nc = await connect({ servers: env.natsUrl });
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await hub?.close();
    await receiver?.stop();
    await nc?.close();
    await db?.end();
    await env?.teardown();
  });

  it('a delay over RETRY_PARK_THRESHOLD_MS waits as a parked row (parked, next_attempt_at), not on the retries stream; the scheduler sends it when due', async () => {
    receiver.respond = (_req, i) => (i === 0 ? { status: 503 } : { status: 200 });
    const tenant = await hub.api.createTenant();
    const publisher = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
    const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}/parked`, event_types: ['ticket.created'], retry_policy_ms: [2_000] },
    });
    expect(sub.status).toBe(201);
    const retries = new SubjectNames(env.prefix).retriesStream;
    const jsm = await nc.jetstreamManager();
    const before = (await jsm.streams.info(retries)).state.last_seq;
    expect(
      (await hub.api.request('POST', '/v1/events', { token: publisher, body: { id: 'evt-park', type: 'ticket.created', model_id: 't', model: { id: 't' } } }))
        .status,
    ).toBe(202);
    const [first] = await receiver.waitFor(1);
    let row: { status: string; parked: boolean; next_attempt_at: Date } | undefined;
    await eventually(
      async () => {
        row = (await db.query(`SELECT status, parked, next_attempt_at FROM deliveries WHERE subscription_id = $1`, [sub.body.id])).rows[0];
        expect(row).toMatchObject({ status: 'retrying', parked: true });
      },
      1_500,
      20,
    );
    expect(Math.abs(row!.next_attempt_at.getTime() - (first.receivedAt + 2_000))).toBeLessThan(500);
    expect((await jsm.streams.info(retries)).state.last_seq).toBe(before);

    const [, second] = await receiver.waitFor(2, 6_000);
    expect(second.headers['x-webhook-attempt']).toBe('2');
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1_950);
    // Moved onto the retries stream by the scheduler once due.
    expect((await jsm.streams.info(retries)).state.last_seq).toBe(before + 1);
  });
});

describe('README promises about start-up defaults', () => {
  let env: TestEnvironment;
  let app: INestApplication | undefined;
  const database = `hookhub_test_missing_${Date.now().toString(36)}`;
  let missingUrl: string;
  const admin = () => new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });

  beforeAll(async () => {
    env = await createTestEnvironment();
    const url = new URL(env.databaseUrl);
    url.pathname = `/${database}`;
    missingUrl = url.toString();
  });
  afterAll(async () => {
    await app?.close();
    const c = admin();
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await c.end();
    await env?.teardown();
  });

  it('creates a missing database (README 28, 383) and, with ALLOW_INSECURE_WEBHOOK_TARGETS unset, is https-only (README 29-30, 390)', async () => {
    const c = admin();
    await c.connect();
    const exists = async () => (await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [database])).rowCount;
    try {
      expect(await exists()).toBe(0);
      const config: Record<string, string | number | boolean | undefined> = { ...env.config({ LOG_LEVEL: 'error' }), DATABASE_URL: missingUrl };
      delete config.ALLOW_INSECURE_WEBHOOK_TARGETS;
      app = await buildSubscriptionsApp(config as Record<string, string | number | boolean>);
      await app.listen(0, '127.0.0.1');
      expect(await exists()).toBe(1);
    } finally {
      await c.end();
    }
    const api = new ApiClient(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, env.adminToken);
    const tenant = await api.createTenant('Defaults');
    const res = await api.request<{ type: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: 'http://127.0.0.1:9/hook', event_types: ['ticket.created'] },
    });
    expect(res.status).toBe(422);
    expect(res.body.type).toMatch(/unsafe-url$/);
  });
});
