import { Client } from 'pg';
import { connect, NatsConnection } from 'nats';
import { EventEnvelope, serializeEnvelope, SubjectNames } from '@hookhub/contracts';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * What the dispatcher writes in bulk: the event log (exact envelope bytes),
 * snapshots whose model is taken from the logged event, and attempt records
 * (one JSON parameter per batch). Events are published straight to JetStream
 * in bursts so several of them share a batch.
 */
describe('recording in bulk: event log, snapshots and attempts', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let db: Client;
  let nc: NatsConnection;
  let receiver: TestReceiver;
  let tenantId: string;
  let subscriptionId: string;

  const envelope = (id: string, type: string, modelId: string, createdAt: string, model: Record<string, unknown> | null): EventEnvelope => ({
    id,
    account_id: tenantId,
    account_url: '',
    created_at: createdAt,
    type,
    data: { note: 'quotes " and \\ and unicode ✓' },
    actor_type: null,
    actor_id: null,
    actor_name: null,
    model_type: 'ticket',
    model_id: modelId,
    model: model as EventEnvelope['model'],
  });

  const publishAll = async (events: EventEnvelope[]): Promise<void> => {
    const js = nc.jetstream();
    const subjects = new SubjectNames(env.prefix);
    // Published in order, acks awaited together: one burst, typically one batch.
    await Promise.all(
      events.map((e) => js.publish(subjects.event(tenantId, e.type), Buffer.from(JSON.stringify(e)), { msgID: SubjectNames.eventMsgId(tenantId, e.id) })),
    );
  };

  const snapshot = async (modelId: string) =>
    (
      await db.query(
        `SELECT version, model::text AS model, deleted_at, last_event_id, source_created_at FROM snapshots WHERE tenant_id = $1 AND model_id = $2`,
        [tenantId, modelId],
      )
    ).rows[0];

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    nc = await connect({ servers: env.natsUrl });
    receiver = await new TestReceiver().start();
    const tenant = await hub.api.createTenant();
    tenantId = tenant.tenantId;
    const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}/hook`, event_types: ['ticket.*'] },
    });
    expect(sub.status).toBe(201);
    subscriptionId = sub.body.id;
  });

  afterAll(async () => {
    await hub?.close();
    await receiver?.stop();
    await nc?.close();
    await db?.end();
    await env?.teardown();
  });

  it('logs the exact envelope bytes and keeps the newest model, whatever the arrival order', async () => {
    const created = envelope('rec-1', 'ticket.created', 'rec-t1', '2026-01-01T10:00:00Z', { id: 'rec-t1', subject: 'first' });
    const updated = envelope('rec-2', 'ticket.updated', 'rec-t1', '2026-01-01T10:05:00Z', { id: 'rec-t1', subject: 'second', tags: ['a', 'b'] });
    const late = envelope('rec-3', 'ticket.updated', 'rec-t1', '2026-01-01T10:01:00Z', { id: 'rec-t1', subject: 'late and older' });
    await publishAll([created, updated]);
    await eventually(async () => expect((await snapshot('rec-t1'))?.version).toBe(2));
    await publishAll([late]);
    await eventually(async () => expect((await snapshot('rec-t1'))?.version).toBe(3));

    const s = await snapshot('rec-t1');
    expect(s.model).toBe(JSON.stringify(updated.model));
    expect(s.last_event_id).toBe('rec-3');
    expect(s.source_created_at.toISOString()).toBe('2026-01-01T10:05:00.000Z');
    expect(s.deleted_at).toBeNull();

    const logged = await db.query(`SELECT id, version, envelope::text AS envelope FROM events WHERE tenant_id = $1 AND model_id = 'rec-t1' ORDER BY version`, [
      tenantId,
    ]);
    expect(logged.rows).toEqual([
      { id: 'rec-1', version: 1, envelope: serializeEnvelope(created) },
      { id: 'rec-2', version: 2, envelope: serializeEnvelope(updated) },
      { id: 'rec-3', version: 3, envelope: serializeEnvelope(late) },
    ]);
    // The body subscribers got is the logged text.
    await receiver.waitFor(3);
    const bodies = receiver.requests.map((r) => r.raw.toString('utf8'));
    expect(bodies).toEqual(expect.arrayContaining(logged.rows.map((r: { envelope: string }) => r.envelope)));
  });

  it('in one batch, a deletion after an update leaves no model anywhere', async () => {
    const created = envelope('rec-4', 'ticket.created', 'rec-t2', '2026-01-02T10:00:00Z', { id: 'rec-t2', subject: 'secret' });
    const updated = envelope('rec-5', 'ticket.updated', 'rec-t2', '2026-01-02T10:01:00Z', { id: 'rec-t2', subject: 'more secret' });
    const deleted = envelope('rec-6', 'ticket.deleted', 'rec-t2', '2026-01-02T10:02:00Z', { id: 'rec-t2' });
    await publishAll([created, updated, deleted]);
    await eventually(async () => expect((await snapshot('rec-t2'))?.version).toBe(3));
    const s = await snapshot('rec-t2');
    expect(s.model).toBeNull();
    expect(s.deleted_at).not.toBeNull();
    const models = await db.query(`SELECT envelope->>'model' AS model FROM events WHERE tenant_id = $1 AND model_id = 'rec-t2'`, [tenantId]);
    expect(models.rows).toEqual([{ model: null }, { model: null }, { model: null }]);
  });

  it('numbers versions 1..n per resource when concurrent batches create the same new resources', async () => {
    // Two batches in flight at once both meet resources that neither has seen: one creates each snapshot
    // row, the other waits for it and must still lock it before numbering its events.
    const tickets = Array.from({ length: 20 }, (_, i) => `race-t${i}`);
    const events = Array.from({ length: 300 }, (_, i) =>
      envelope(`race-${i}`, 'ticket.updated', tickets[i % tickets.length], new Date(Date.UTC(2026, 0, 3, 10, 0, i)).toISOString(), {
        id: tickets[i % tickets.length],
        n: i,
      }),
    );
    await Promise.all([publishAll(events.slice(0, 150)), publishAll(events.slice(150))]);
    await eventually(async () => {
      const n = await db.query(`SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND model_id LIKE 'race-t%'`, [tenantId]);
      expect(n.rows[0].n).toBe(300);
    }, 20_000);
    const versions = await db.query(
      `SELECT model_id, array_agg(version ORDER BY version) AS versions, max(version) AS top FROM events
        WHERE tenant_id = $1 AND model_id LIKE 'race-t%' GROUP BY model_id`,
      [tenantId],
    );
    expect(versions.rows).toHaveLength(20);
    for (const row of versions.rows) expect(row.versions).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    const snaps = await db.query(`SELECT model_id, version FROM snapshots WHERE tenant_id = $1 AND model_id LIKE 'race-t%'`, [tenantId]);
    expect(snaps.rows.every((r: { version: number }) => r.version === 15)).toBe(true);
  });

  it('records attempts in bulk: statuses, headers, and a response body with NUL bytes', async () => {
    receiver.respond = (req) =>
      req.url.includes('nul') ? { status: 200, body: 'ok\u0000done', headers: { 'x-receiver': 'yes' } } : { status: 200, body: 'ok' };
    const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: (await hub.api.createKey(tenantId, ['admin'])).key,
      body: { url: `${receiver.url}/nul`, event_types: ['ticket.updated'], model_ids: ['rec-t3'] },
    });
    expect(sub.status).toBe(201);
    const events = Array.from({ length: 40 }, (_, i) =>
      envelope(`rec-b${i}`, 'ticket.updated', 'rec-t3', `2026-01-03T10:00:${String(i).padStart(2, '0')}Z`, { id: 'rec-t3', n: i }),
    );
    await publishAll(events);
    await eventually(async () => {
      const r = await db.query(`SELECT status, attempt_count, count(*)::int AS n FROM deliveries WHERE subscription_id = $1 GROUP BY 1, 2`, [sub.body.id]);
      expect(r.rows).toEqual([{ status: 'delivered', attempt_count: 1, n: 40 }]);
    }, 20_000);
    const attempts = await db.query(
      `SELECT a.outcome, a.response_status, a.response_body, a.response_headers->>'x-receiver' AS receiver_header,
              a.attempt::text AS attempt_header, d.delivered_at IS NOT NULL AS delivered
         FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = $1`,
      [sub.body.id],
    );
    expect(attempts.rows).toHaveLength(40);
    for (const row of attempts.rows) {
      expect(row).toEqual({ outcome: 'success', response_status: 200, response_body: 'okdone', receiver_header: 'yes', attempt_header: '1', delivered: true });
    }
    const health = await db.query(`SELECT consecutive_failures FROM subscriptions WHERE id = ANY($1)`, [[sub.body.id, subscriptionId]]);
    expect(health.rows).toEqual([{ consecutive_failures: 0 }, { consecutive_failures: 0 }]);
  });
});
