import { Client } from 'pg';
import { connect, NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { EventEnvelope, SubjectNames, ThinNotification } from '@hookhub/contracts';
import { DisableNotifier } from '@hookhub/delivery';
import { EventRecorder, RecordResult } from '@hookhub/event-store';
import { IngestEventFactory } from '@hookhub/ingest';
import { MessageLookupRepository, TenantRepository } from '@hookhub/persistence';
import { TicketChildren1764000000006 } from '../../libs/persistence/src/migrations/1764000000006-ticket-children';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { ReceivedRequest, TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const ACCOUNT_URL = 'https://acme.example.com';

/**
 * What the resource API and thin notifications promise about a resource's
 * life: its first recorded event is its CREATION (whatever the type is
 * called, across retries, redeliveries and concurrent pods); deleting a
 * ticket deletes its messages (410, snapshots and logged models purged);
 * every envelope the hub builds itself carries the tenant's account URL.
 */
describe('resources: creation, deletion of children, account URL', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let db: Client;
  let nc: NatsConnection;
  let receiver: TestReceiver;
  let tenantId: string;
  let adminKey: string;
  let publisherKey: string;
  let readerKey: string;

  const thinBodies = (): Array<{ req: ReceivedRequest; thin: ThinNotification }> =>
    receiver.requests.filter((r) => r.url === '/thin').map((req) => ({ req, thin: req.json() as ThinNotification }));
  const thinFor = (resource: string): string[] =>
    thinBodies()
      .filter((b) => b.thin.data.resource === resource)
      .map((b) => b.thin.data.status);

  const publish = async (body: Record<string, unknown>): Promise<void> => {
    const res = await hub.api.request('POST', '/v1/events', { token: publisherKey, body });
    if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${res.text}`);
  };
  const get = (path: string): Promise<{ status: number; body: Record<string, unknown> }> => hub.api.request('GET', path, { token: readerKey });
  const subscribe = async (body: Record<string, unknown>): Promise<string> => {
    const res = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', { token: adminKey, body });
    if (res.status !== 201) throw new Error(`subscription failed: ${res.status} ${res.text}`);
    return res.body.id;
  };
  const envelope = (
    id: string,
    type: string,
    modelType: EventEnvelope['model_type'],
    modelId: string,
    model: Record<string, unknown> | null,
    data: Record<string, unknown> = {},
  ): EventEnvelope => ({
    id,
    account_id: tenantId,
    account_url: ACCOUNT_URL,
    created_at: new Date().toISOString(),
    type,
    data,
    actor_type: null,
    actor_id: null,
    actor_name: null,
    model_type: modelType,
    model_id: modelId,
    model: model as EventEnvelope['model'],
  });
  const logged = async (modelId: string): Promise<Array<{ id: string; version: number; change_status: string; model: string }>> =>
    (
      await db.query(
        `SELECT id, version, change_status, (envelope->'model')::text AS model FROM events WHERE tenant_id = $1 AND model_id = $2 ORDER BY version`,
        [tenantId, modelId],
      )
    ).rows;
  const snapshotRow = async (modelType: string, modelId: string): Promise<{ model: string | null; deleted: boolean } | undefined> =>
    (
      await db.query(
        `SELECT model::text AS model, deleted_at IS NOT NULL AS deleted FROM snapshots WHERE tenant_id = $1 AND model_type = $2 AND model_id = $3`,
        [tenantId, modelType, modelId],
      )
    ).rows[0];

  /** Transactions still open: a failed assertion must not leave one holding rows (and a connection) for the next test. */
  const open: Array<() => void> = [];
  /** A transaction of the dispatcher's recorder that stays open until `commit` is called, as a slow pod's would. */
  const openRecording = async (events: EventEnvelope[]): Promise<{ recorded: Promise<RecordResult>; commit: () => void; done: Promise<void> }> => {
    const dataSource = hub.dispatchers[0].get(DataSource);
    const recorder = hub.dispatchers[0].get(EventRecorder);
    let commit!: () => void;
    const released = new Promise<void>((r) => (commit = r));
    open.push(() => commit());
    let recordedResolve!: (r: RecordResult) => void;
    let recordedReject!: (err: unknown) => void;
    const recorded = new Promise<RecordResult>((resolve, reject) => ((recordedResolve = resolve), (recordedReject = reject)));
    const done = dataSource.transaction(async (m) => {
      recordedResolve(await recorder.record(m, events));
      await released;
    });
    // A failed recording (a deadlock, say) fails whoever waits for it rather than hanging the test.
    done.catch(recordedReject);
    recorded.catch(() => undefined);
    return { recorded, commit, done };
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
    // Warnings (the disable notice below) are expected here: keep a passing run quiet.
    hub = await startHub(env, { LOG_LEVEL: 'error' });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    nc = await connect({ servers: env.natsUrl });
    receiver = await new TestReceiver().start();
    const tenant = await hub.api.request<{ id: string }>('POST', '/v1/tenants', { token: env.adminToken, body: { name: 'Acme', account_url: ACCOUNT_URL } });
    expect(tenant.status).toBe(201);
    tenantId = tenant.body.id;
    adminKey = (await hub.api.createKey(tenantId, ['admin'])).key;
    publisherKey = (await hub.api.createKey(tenantId, ['publisher'])).key;
    readerKey = (await hub.api.createKey(tenantId, ['reader'])).key;
    await subscribe({ url: `${receiver.url}/thin`, event_types: ['ticket.*', 'message.*', 'survey.*'], format: 'thin' });
  });

  afterEach(() => {
    open.splice(0).forEach((release) => release());
  });

  afterAll(async () => {
    await hub?.close();
    await receiver?.stop();
    await nc?.close();
    await db?.end();
    await env?.teardown();
  });

  describe('the first event of a resource is its CREATION, whatever the type is called', () => {
    it('a new survey response is announced as a CREATION, its next event as an UPDATE', async () => {
      const model = (score: number) => ({ id: 'resp-1', survey_id: 'survey-1', score });
      await publish({ id: 'evt-resp-1', type: 'survey.response_completed', model_id: 'resp-1', model: model(7) });
      // Recorded first: two events in flight at once may be recorded in either order (the later one would be the CREATION).
      await eventually(async () => expect((await logged('resp-1')).map((r) => r.id)).toEqual(['evt-resp-1']));
      await publish({ id: 'evt-resp-2', type: 'survey.response_completed', model_id: 'resp-1', model: model(9) });
      const resource = '/v0/surveys/survey-1/responses/resp-1';
      await eventually(() => expect(thinFor(resource)).toHaveLength(2));
      expect(thinFor(resource)).toEqual(['CREATION', 'UPDATE']);
      expect((await logged('resp-1')).map((r) => [r.id, r.version, r.change_status])).toEqual([
        ['evt-resp-1', 1, 'CREATION'],
        ['evt-resp-2', 2, 'UPDATE'],
      ]);
      const snap = await get(resource);
      expect(snap.status).toBe(200);
      expect(snap.body.score).toBe(9);
    });

    it('a ticket whose first recorded event is ticket.updated was created by it; a later ticket.created is an UPDATE', async () => {
      await publish({ id: 'evt-late-1', type: 'ticket.updated', model_id: 't-late', model: { id: 't-late', state: 'open' } });
      await publish({ id: 'evt-late-2', type: 'ticket.created', model_id: 't-late', model: { id: 't-late', state: 'open' } });
      await eventually(() => expect(thinFor('/v0/tickets/t-late')).toHaveLength(2));
      expect(thinFor('/v0/tickets/t-late')).toEqual(['CREATION', 'UPDATE']);
      expect((await logged('t-late')).map((r) => r.change_status)).toEqual(['CREATION', 'UPDATE']);
    });

    it('a retried thin notification says what the first attempt said (the retry reads the logged status)', async () => {
      const retryReceiver = await new TestReceiver().start();
      try {
        retryReceiver.respond = (_req, index) => (index === 0 ? { status: 503 } : { status: 200 });
        await subscribe({ url: `${retryReceiver.url}/flaky`, event_types: ['survey.*'], format: 'thin', retry_policy_ms: [100] });
        await publish({
          id: 'evt-resp-retry',
          type: 'survey.response_completed',
          model_id: 'resp-retry',
          model: { id: 'resp-retry', survey_id: 'survey-1', score: 3 },
        });
        const requests = await retryReceiver.waitFor(2);
        expect(requests.map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '2']);
        expect(requests.map((r) => (r.json() as ThinNotification).data.status)).toEqual(['CREATION', 'CREATION']);
      } finally {
        await retryReceiver.stop();
      }
    });

    it('a redelivered event keeps the status it was recorded with', async () => {
      const first = envelope('evt-redeliver', 'survey.response_completed', 'survey_response', 'resp-redeliver', {
        id: 'resp-redeliver',
        survey_id: 'survey-1',
        score: 5,
      });
      const once = await openRecording([first]);
      expect((await once.recorded).statuses.get(`${tenantId}:evt-redeliver`)).toBe('CREATION');
      once.commit();
      await once.done;

      // JetStream hands the same event out again (after a crash): a new envelope object, already in the log.
      const again = { ...first };
      const twice = await openRecording([again]);
      const result = await twice.recorded;
      twice.commit();
      await twice.done;
      expect(result.fresh.size).toBe(0);
      expect(result.statuses.get(`${tenantId}:evt-redeliver`)).toBe('CREATION');
    });

    it('two pods recording the first events of one resource at once agree on a single CREATION', async () => {
      const model = { id: 'resp-race', survey_id: 'survey-1', score: 1 };
      const slow = await openRecording([envelope('evt-race-a', 'survey.response_completed', 'survey_response', 'resp-race', model)]);
      expect((await slow.recorded).statuses.get(`${tenantId}:evt-race-a`)).toBe('CREATION');
      // The second pod's transaction starts while the first still holds the resource's row.
      const fast = await openRecording([envelope('evt-race-b', 'survey.response_completed', 'survey_response', 'resp-race', model)]);
      const outcome = await Promise.race([fast.recorded.then(() => 'recorded'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
      expect(outcome).toBe('waiting');
      slow.commit();
      await slow.done;
      expect((await fast.recorded).statuses.get(`${tenantId}:evt-race-b`)).toBe('UPDATE');
      fast.commit();
      await fast.done;
      expect((await logged('resp-race')).map((r) => [r.id, r.version, r.change_status])).toEqual([
        ['evt-race-a', 1, 'CREATION'],
        ['evt-race-b', 2, 'UPDATE'],
      ]);
    });
  });

  describe("a deleted ticket's messages are deleted with it", () => {
    const secret = 'card number 4111 1111 1111 1111';

    it('answer 410 on every route, and their snapshots and logged models are purged', async () => {
      await publish({ id: 'evt-dt-1', type: 'ticket.created', model_id: 't-del', model: { id: 't-del', state: 'open' } });
      await publish({
        id: 'evt-dm-1',
        type: 'message.created',
        model_id: 'm-del-1',
        model: { id: 'm-del-1', ticket_id: 't-del', body: secret, provider_message_id: 'SM-del-1' },
      });
      await publish({
        id: 'evt-dm-2',
        type: 'message.updated',
        model_id: 'm-del-1',
        model: { id: 'm-del-1', ticket_id: 't-del', body: `${secret}!`, provider_message_id: 'SM-del-1' },
      });
      await publish({ id: 'evt-dm-3', type: 'message.created', model_id: 'm-del-2', model: { id: 'm-del-2', ticket_id: 't-del', body: secret } });
      await publish({ id: 'evt-other', type: 'message.created', model_id: 'm-keep', model: { id: 'm-keep', ticket_id: 't-keep', body: 'stays' } });
      await eventually(async () => expect((await get('/v0/tickets/t-del/messages/m-del-2')).status).toBe(200));
      expect((await get('/v0/tickets/t-del/messages/m-del-1')).body.body).toBe(`${secret}!`);
      const lookup = hub.subscriptions.get(MessageLookupRepository);
      expect((await lookup.byProviderMessageId(tenantId, 'SM-del-1'))?.messageId).toBe('m-del-1');

      await publish({ id: 'evt-dt-2', type: 'ticket.deleted', model_id: 't-del', model: null });
      await eventually(async () => expect((await get('/v0/tickets/t-del')).status).toBe(410));
      for (const path of ['/v0/tickets/t-del/messages/m-del-1', '/v0/tickets/t-del/messages/m-del-2', '/v0/messages/m-del-1', '/v0/messages/m-del-2']) {
        const res = await get(path);
        expect({ path, status: res.status }).toEqual({ path, status: 410 });
        expect(res.body).not.toHaveProperty('body');
      }
      for (const id of ['m-del-1', 'm-del-2']) {
        expect(await snapshotRow('message', id)).toEqual({ model: null, deleted: true });
        // The log stays append-only (no row removed, none added for the children); their models are erased.
        expect((await logged(id)).every((r) => r.model === 'null')).toBe(true);
      }
      expect((await logged('m-del-1')).map((r) => r.id)).toEqual(['evt-dm-1', 'evt-dm-2']);
      const leaks = await db.query(`SELECT id FROM events WHERE tenant_id = $1 AND envelope::text LIKE $2`, [tenantId, '%4111%']);
      expect(leaks.rows).toEqual([]);
      // Nothing brings a purged message back: not a provider's report about it, not the ticket's other messages.
      expect(await lookup.byProviderMessageId(tenantId, 'SM-del-1')).toBeNull();
      expect((await get('/v0/tickets/t-keep/messages/m-keep')).status).toBe(200);
    });

    it('the migration purges the live messages of tickets deleted before this release', async () => {
      // As a database written by an older release would hold it: a deleted ticket with a live message.
      const legacy = JSON.stringify({ id: 'm-legacy', ticket_id: 't-del', body: secret });
      await db.query(
        `INSERT INTO snapshots (tenant_id, model_type, model_id, version, model, last_event_id) VALUES ($1, 'message', 'm-legacy', 1, $2, 'evt-legacy')`,
        [tenantId, legacy],
      );
      const logged1 = { ...envelope('evt-legacy', 'message.created', 'message', 'm-legacy', JSON.parse(legacy)) };
      await db.query(
        `INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at) VALUES ($1, 'evt-legacy', 'message.created', 'message', 'm-legacy', 1, 'CREATION', $2, now())`,
        [tenantId, JSON.stringify(logged1)],
      );
      expect((await get('/v0/tickets/t-del/messages/m-legacy')).status).toBe(200);
      const runner = hub.subscriptions.get(DataSource).createQueryRunner();
      try {
        await new TicketChildren1764000000006().down(runner);
        await new TicketChildren1764000000006().up(runner);
      } finally {
        await runner.release();
      }
      expect((await get('/v0/tickets/t-del/messages/m-legacy')).status).toBe(410);
      expect(await snapshotRow('message', 'm-legacy')).toEqual({ model: null, deleted: true });
      expect((await logged('m-legacy')).map((r) => r.model)).toEqual(['null']);
      expect((await get('/v0/tickets/t-keep/messages/m-keep')).status).toBe(200);
    });

    it('messages recorded after their ticket was deleted are born deleted', async () => {
      await publish({ id: 'evt-dm-4', type: 'message.created', model_id: 'm-del-3', model: { id: 'm-del-3', ticket_id: 't-del', body: secret } });
      await publish({ id: 'evt-dm-5', type: 'message.updated', model_id: 'm-del-1', model: { id: 'm-del-1', ticket_id: 't-del', body: secret } });
      await eventually(async () => expect((await logged('m-del-3')).length).toBe(1));
      await eventually(async () => expect((await logged('m-del-1')).length).toBe(3));
      expect((await get('/v0/tickets/t-del/messages/m-del-3')).status).toBe(410);
      expect((await get('/v0/tickets/t-del/messages/m-del-1')).status).toBe(410);
      expect(await snapshotRow('message', 'm-del-3')).toEqual({ model: null, deleted: true });
      expect((await logged('m-del-3'))[0].model).toBe('null');
      expect((await logged('m-del-1'))[2].model).toBe('null');
    });

    it("a retry of a message's event after its ticket was deleted is sent (the message located by id), not failed forever", async () => {
      const flaky = await new TestReceiver().start();
      try {
        flaky.respond = (_req, index) => (index === 0 ? { status: 503 } : { status: 200 });
        const sub = await subscribe({ url: `${flaky.url}/thin-retry`, event_types: ['message.*'], format: 'thin', retry_policy_ms: [1_000] });
        await publish({ id: 'evt-rr-t', type: 'ticket.created', model_id: 't-rr', model: { id: 't-rr', state: 'open' } });
        await publish({ id: 'evt-rr-m', type: 'message.created', model_id: 'm-rr', model: { id: 'm-rr', ticket_id: 't-rr', body: secret } });
        await flaky.waitFor(1);
        // The retry will read the event back from the log, whose model the deletion erases.
        await publish({ id: 'evt-rr-del', type: 'ticket.deleted', model_id: 't-rr', model: null });
        await eventually(async () => expect((await get('/v0/tickets/t-rr/messages/m-rr')).status).toBe(410));
        const [first, retry] = await flaky.waitFor(2);
        expect((first.json() as ThinNotification).data.resource).toBe('/v0/tickets/t-rr/messages/m-rr');
        expect(retry.json()).toEqual({
          data: { status: 'CREATION', params: { id: 'm-rr' }, resource: '/v0/messages/m-rr' },
          tenant_id: tenantId,
          topic: 'sac_message',
        });
        expect((await get('/v0/messages/m-rr')).status).toBe(410);
        await eventually(async () => {
          const d = await db.query(`SELECT status FROM deliveries WHERE subscription_id = $1 AND event_id = 'evt-rr-m'`, [sub]);
          expect(d.rows).toEqual([{ status: 'delivered' }]);
        });
      } finally {
        await flaky.stop();
      }
    });

    it('a message and its ticket deleted in one batch: the message goes too', async () => {
      const subjects = new SubjectNames(env.prefix);
      const js = nc.jetstream();
      const burst = [
        envelope('evt-b-1', 'ticket.created', 'ticket', 't-burst', { id: 't-burst', state: 'open' }),
        envelope('evt-b-2', 'message.created', 'message', 'm-burst', { id: 'm-burst', ticket_id: 't-burst', body: secret }),
        envelope('evt-b-3', 'ticket.deleted', 'ticket', 't-burst', null),
      ];
      await Promise.all(
        burst.map((e) => js.publish(subjects.event(tenantId, e.type), Buffer.from(JSON.stringify(e)), { msgID: SubjectNames.eventMsgId(tenantId, e.id) })),
      );
      await eventually(async () => expect((await get('/v0/tickets/t-burst')).status).toBe(410));
      expect((await get('/v0/tickets/t-burst/messages/m-burst')).status).toBe(410);
      expect((await logged('m-burst')).map((r) => r.model)).toEqual(['null']);
    });

    it.each([
      ['the deletion commits first', 'ticket'],
      ['the message commits first', 'message'],
    ])('a ticket deletion racing a new message on another pod purges it: %s', async (_name, first) => {
      const ticket = `t-race-${first}`;
      const message = `m-race-${first}`;
      await publish({ id: `evt-${ticket}`, type: 'ticket.created', model_id: ticket, model: { id: ticket, state: 'open' } });
      await eventually(async () => expect((await get(`/v0/tickets/${ticket}`)).status).toBe(200));
      const deletion = [envelope(`evt-${ticket}-del`, 'ticket.deleted', 'ticket', ticket, null)];
      const creation = [envelope(`evt-${message}`, 'message.created', 'message', message, { id: message, ticket_id: ticket, body: secret })];
      const slow = await openRecording(first === 'ticket' ? deletion : creation);
      await slow.recorded;
      const fast = await openRecording(first === 'ticket' ? creation : deletion);
      // The second waits for the first (they share the ticket's row) instead of missing its work.
      const outcome = await Promise.race([fast.recorded.then(() => 'recorded'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
      expect(outcome).toBe('waiting');
      slow.commit();
      await slow.done;
      await fast.recorded;
      fast.commit();
      await fast.done;
      expect(await snapshotRow('message', message)).toEqual({ model: null, deleted: true });
      expect((await logged(message)).map((r) => r.model)).toEqual(['null']);
      expect((await get(`/v0/tickets/${ticket}/messages/${message}`)).status).toBe(410);
    });

    it("a deletion queued behind another holder of the ticket's row, and an update of one of its messages, do not deadlock", async () => {
      await publish({ id: 'evt-t-dl', type: 'ticket.created', model_id: 't-dl', model: { id: 't-dl', state: 'open' } });
      await publish({ id: 'evt-m-dl-1', type: 'message.created', model_id: 'm-dl', model: { id: 'm-dl', ticket_id: 't-dl', body: 'hello' } });
      await eventually(async () => expect((await get('/v0/tickets/t-dl/messages/m-dl')).status).toBe(200));
      // Someone else holds the ticket's row; the deletion queues for it first, then the message's update.
      const holder = new Client({ connectionString: env.databaseUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM snapshots WHERE tenant_id = $1 AND model_type = 'ticket' AND model_id = 't-dl' FOR UPDATE`, [tenantId]);
        const deletion = await openRecording([envelope('evt-t-dl-del', 'ticket.deleted', 'ticket', 't-dl', null)]);
        await new Promise((r) => setTimeout(r, 200));
        const update = await openRecording([envelope('evt-m-dl-2', 'message.updated', 'message', 'm-dl', { id: 'm-dl', ticket_id: 't-dl', body: secret })]);
        await new Promise((r) => setTimeout(r, 200));
        await holder.query('COMMIT');
        // Had the update locked the message before the ticket, the deletion's purge would wait for it while it waited for the ticket.
        await deletion.recorded;
        deletion.commit();
        await deletion.done;
        await update.recorded;
        update.commit();
        await update.done;
      } finally {
        await holder.end();
      }
      expect(await snapshotRow('message', 'm-dl')).toEqual({ model: null, deleted: true });
      expect((await logged('m-dl')).map((r) => r.model)).toEqual(['null', 'null']);
    });
  });

  describe("envelopes the hub builds itself carry the tenant's account URL", () => {
    it('webhook.disabled', async () => {
      const notices = await new TestReceiver().start();
      try {
        await subscribe({ url: `${notices.url}/notices`, event_types: ['webhook.disabled'] });
        await hub.dispatchers[0].get(DisableNotifier).notify([
          {
            id: '00000000-0000-4000-8000-000000000001',
            tenantId,
            url: 'https://hooks.example.com/dead',
            state: 'disabled',
            reason: 'disabled after 10 consecutive failed attempts',
            consecutiveFailures: 10,
            lastError: 'endpoint answered 503',
            eventTypes: ['ticket.*'],
          } as Parameters<DisableNotifier['notify']>[0][number],
        ]);
        const [notice] = await notices.waitFor(1);
        const body = notice.json() as EventEnvelope;
        expect(body.type).toBe('webhook.disabled');
        expect(body.account_id).toBe(tenantId);
        expect(body.account_url).toBe(ACCOUNT_URL);
      } finally {
        await notices.stop();
      }
    });

    it('webhook.test', async () => {
      const pinged = await new TestReceiver().start();
      try {
        const id = await subscribe({ url: `${pinged.url}/ping`, event_types: ['ticket.created'] });
        const res = await hub.api.request('POST', `/v1/subscriptions/${id}/test`, { token: adminKey });
        expect(res.status).toBe(200);
        const [ping] = await pinged.waitFor(1);
        expect((ping.json() as EventEnvelope).account_url).toBe(ACCOUNT_URL);
      } finally {
        await pinged.stop();
      }
    });

    it("provider-ingest events (and a report about a deleted ticket's message carries no model)", async () => {
      const factory = new IngestEventFactory(hub.subscriptions.get(MessageLookupRepository), hub.subscriptions.get(TenantRepository));
      const connection = { id: 'conn-1', tenantId, provider: 'twilio_sms', statusMap: {} };
      const report = (providerMessageId: string) =>
        ({
          kind: 'delivery_status',
          providerEventId: `${providerMessageId}-delivered`,
          providerMessageId,
          channel: 'sms',
          status: 'delivered',
          rawStatus: 'delivered',
          errorCode: null,
          errorMessage: null,
          occurredAt: new Date().toISOString(),
          recipient: null,
        }) as const;
      const [status] = await factory.eventsFor(connection, [report('SM-del-1')]);
      expect(status.account_url).toBe(ACCOUNT_URL);
      expect(status.model).toBeNull();
      expect(status.model_id).toBe('SM-del-1');
    });
  });
});
