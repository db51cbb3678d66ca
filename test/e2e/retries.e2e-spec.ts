import type { AddressInfo } from 'node:net';
import { connect, NatsConnection } from 'nats';
import { SubjectNames } from '@hookhub/contracts';
import { eventually } from '../support/eventually';
import { TestReceiver } from '../support/receiver';
import { publishEvent as publish, startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';

describe('retries follow the subscription policy on JetStream delays', () => {
  let ctx: TenantHub;
  let receiver: TestReceiver;

  beforeAll(async () => {
    ctx = await startTenantHub();
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await receiver.stop();
    await stopTenantHub(ctx);
  });

  it('a receiver failing twice then succeeding gets 3 attempts spaced by the policy', async () => {
    receiver.respond = (_req, i) => (i < 2 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' });
    await subscribe(ctx, { url: `${receiver.url}/flaky`, event_types: ['ticket.created'], retry_policy_ms: [600, 1200] });
    await publish(ctx, 'evt-flaky');
    const requests = await receiver.waitFor(3, 15_000);
    const gaps = [requests[1].receivedAt - requests[0].receivedAt, requests[2].receivedAt - requests[1].receivedAt];
    expect(gaps[0]).toBeGreaterThanOrEqual(580);
    expect(gaps[0]).toBeLessThan(600 + 400);
    expect(gaps[1]).toBeGreaterThanOrEqual(1180);
    expect(gaps[1]).toBeLessThan(1200 + 400);
    expect(requests.map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(requests.map((r) => r.headers['x-webhook-delivery'])).size).toBe(1);

    await eventually(async () => {
      const d = await ctx.db.query(`SELECT id, status, attempt_count FROM deliveries WHERE event_id = 'evt-flaky'`);
      expect(d.rows).toEqual([{ id: requests[0].headers['x-webhook-delivery'], status: 'delivered', attempt_count: 3 }]);
      const a = await ctx.db.query(`SELECT attempt, outcome, response_status, response_body FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt`, [
        d.rows[0].id,
      ]);
      expect(a.rows).toEqual([
        { attempt: 1, outcome: 'failure', response_status: 503, response_body: 'busy' },
        { attempt: 2, outcome: 'failure', response_status: 503, response_body: 'busy' },
        { attempt: 3, outcome: 'success', response_status: 200, response_body: 'ok' },
      ]);
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests).toHaveLength(3);
  });
});

describe('failing endpoints: dead letter, auto-disable and the admins notice', () => {
  let ctx: TenantHub;
  let dead: TestReceiver;
  let admin: TestReceiver;

  beforeAll(async () => {
    ctx = await startTenantHub();
    dead = await new TestReceiver().start();
    dead.respond = () => ({ status: 500, body: 'down' });
    admin = await new TestReceiver().start();
  });
  afterAll(async () => {
    await dead.stop();
    await admin.stop();
    await stopTenantHub(ctx);
  });

  it('makes exactly policy-length + 1 attempts, then the delivery is failed', async () => {
    const subId = await subscribe(ctx, { url: `${dead.url}/one`, event_types: ['survey.response_completed'], retry_policy_ms: [100, 200, 300] });
    const res = await ctx.hub.api.request('POST', '/v1/events', {
      token: ctx.publisher,
      body: { id: 'evt-survey', type: 'survey.response_completed', model_id: 'r-1', model: { id: 'r-1', survey_id: 's-1' } },
    });
    expect(res.status).toBe(202);
    await eventually(async () => {
      const d = await ctx.db.query(`SELECT status, attempt_count, reason FROM deliveries WHERE subscription_id = $1`, [subId]);
      expect(d.rows).toEqual([{ status: 'failed', attempt_count: 4, reason: expect.stringContaining('gave up after 4 attempts') }]);
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(dead.requests.filter((r) => r.url === '/one')).toHaveLength(4);

    // The dead letter is visible through the API, with every attempt.
    const list = await ctx.hub.api.request<{ items: Array<{ id: string; status: string }> }>('GET', `/v1/subscriptions/${subId}/deliveries?status=failed`, {
      token: ctx.tenant.adminKey,
    });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const detail = await ctx.hub.api.request<{ status: string; attempts: Array<{ attempt: number; response_status: number; response_body: string }> }>(
      'GET',
      `/v1/deliveries/${list.body.items[0].id}`,
      { token: ctx.tenant.adminKey },
    );
    expect(detail.body.status).toBe('failed');
    expect(detail.body.attempts.map((a) => [a.attempt, a.response_status, a.response_body])).toEqual([
      [1, 500, 'down'],
      [2, 500, 'down'],
      [3, 500, 'down'],
      [4, 500, 'down'],
    ]);
    const other = await ctx.hub.api.createTenant('Other');
    const foreign = await ctx.hub.api.request('GET', `/v1/deliveries/${list.body.items[0].id}`, { token: other.adminKey });
    expect(foreign.status).toBe(404);

    const port = (ctx.hub.dispatchers[0].getHttpServer().address() as AddressInfo).port;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/hookhub_delivery_attempts_total\{outcome="failed"\} 1/);
    expect(metrics).toMatch(/hookhub_delivery_attempts_total\{outcome="retrying"\} 3/);
    expect(metrics).toMatch(/hookhub_retries_scheduled_total\{where="jetstream"\} 3/);
    expect(metrics).toMatch(/hookhub_consumer_lag\{consumer="dispatcher",kind="pending"\} 0/);
    expect(metrics).toMatch(/hookhub_delivery_attempt_duration_seconds_count\{outcome="failure"\} 4/);
  });

  it('disables a subscription after 10 consecutive failures (no minimum failing time), stops its retries and notifies the admin subscription', async () => {
    await subscribe(ctx, { url: `${admin.url}/notices`, event_types: ['webhook.disabled'] });
    // The time rule is tested in subscription-lifecycle.e2e-spec.ts; here only the count applies.
    const subId = await subscribe(ctx, {
      url: `${dead.url}/many`,
      event_types: ['ticket.created'],
      retry_policy_ms: [100, 100, 100, 100, 100],
      disable_after_failing_ms: 0,
    });
    for (const i of [1, 2, 3]) await publish(ctx, `evt-dead-${i}`);

    const [notice] = await admin.waitFor(1, 20_000);
    const body = notice.json() as { type: string; data: { subscription_id: string; consecutive_failures: number }; model: { state: string } };
    expect(notice.headers['x-webhook-event']).toBe('webhook.disabled');
    expect(body.type).toBe('webhook.disabled');
    expect(body.data.subscription_id).toBe(subId);
    expect(body.data.consecutive_failures).toBeGreaterThanOrEqual(10);
    expect(body.model.state).toBe('disabled');

    const sub = await ctx.hub.api.request<{ state: string; state_reason: string }>('GET', `/v1/subscriptions/${subId}`, { token: ctx.tenant.adminKey });
    expect(sub.body.state).toBe('disabled');
    expect(sub.body.state_reason).toMatch(/disabled after 1\d consecutive failed attempts, failing since /);

    const sent = dead.requests.filter((r) => r.url === '/many').length;
    expect(sent).toBeGreaterThanOrEqual(10);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(dead.requests.filter((r) => r.url === '/many').length).toBe(sent);
    const open = await ctx.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE subscription_id = $1 AND status IN ('pending', 'retrying')`, [subId]);
    expect(open.rows[0].n).toBe(0);
    expect(admin.requests).toHaveLength(1);

    // Re-enabling resumes delivery, and a success keeps the count at zero.
    dead.respond = () => ({ status: 200 });
    const enabled = await ctx.hub.api.request<{ state: string; state_reason: string | null }>('POST', `/v1/subscriptions/${subId}/enable`, {
      token: ctx.tenant.adminKey,
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ state: 'active', state_reason: null });
    await publish(ctx, 'evt-after-enable');
    await eventually(async () => {
      const d = await ctx.db.query(`SELECT status FROM deliveries WHERE subscription_id = $1 AND event_id = 'evt-after-enable'`, [subId]);
      expect(d.rows).toEqual([{ status: 'delivered' }]);
      const s = await ctx.db.query(`SELECT consecutive_failures, failing_since FROM subscriptions WHERE id = $1`, [subId]);
      expect(s.rows).toEqual([{ consecutive_failures: 0, failing_since: null }]);
    });
  });
});

describe('isolation: retries waiting for a dead endpoint do not delay a healthy one', () => {
  let ctx: TenantHub;
  let dead: TestReceiver;
  let healthy: TestReceiver;
  let nc: NatsConnection;

  beforeAll(async () => {
    // A small events-consumer window proves the waiting retries are not in it.
    ctx = await startTenantHub({ DISABLE_AFTER_FAILURES: 1_000_000, DISPATCHER_MAX_ACK_PENDING: 200 });
    nc = await connect({ servers: ctx.env.natsUrl });
    dead = await new TestReceiver().start();
    dead.respond = () => ({ status: 503 });
    healthy = await new TestReceiver().start();
  });
  afterAll(async () => {
    await nc.close();
    await dead.stop();
    await healthy.stop();
    await stopTenantHub(ctx);
  });

  it('delivers new events to the healthy endpoint while 1,000 retries wait', async () => {
    await subscribe(ctx, { url: `${dead.url}/dead`, event_types: ['message.created'], retry_policy_ms: [30_000] });
    await subscribe(ctx, { url: `${healthy.url}/ok`, event_types: ['ticket.created'] });
    const ids = Array.from({ length: 1_000 }, (_, i) => `evt-m-${i}`);
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map((id) => publish(ctx, id, 'message.created')));
    await dead.waitFor(1_000, 60_000);
    await eventually(async () => {
      const r = await ctx.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'retrying' AND event_type = 'message.created'`);
      expect(r.rows[0].n).toBe(1_000);
    }, 20_000);
    const jsm = await nc.jetstreamManager();
    const retryConsumer = await jsm.consumers.info(new SubjectNames(ctx.env.prefix).retriesStream, 'retry');
    expect(retryConsumer.num_ack_pending).toBe(1_000);

    const started = Date.now();
    for (let i = 0; i < 50; i++) await publish(ctx, `evt-t-${i}`);
    await healthy.waitFor(50, 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(dead.requests).toHaveLength(1_000);
  });
});

describe('isolation: a saturated endpoint’s new deliveries wait in PostgreSQL', () => {
  let ctx: TenantHub;
  let stuck: TestReceiver;
  let healthy: TestReceiver;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    ctx = await startTenantHub({ DISPATCHER_MAX_PER_SUBSCRIPTION: 2, WEBHOOK_TIMEOUT_MS: 20_000 });
    stuck = await new TestReceiver().start();
    const answered = new Promise<void>((resolve) => (release = resolve));
    stuck.respond = async () => {
      await answered;
      return { status: 200, body: 'ok' };
    };
    healthy = await new TestReceiver().start();
  });
  afterAll(async () => {
    release();
    await stuck.stop();
    await healthy.stop();
    await stopTenantHub(ctx);
  });

  it('parks them with a reason instead of holding the events, then delivers each once the endpoint answers', async () => {
    const stuckSub = await subscribe(ctx, { url: `${stuck.url}/stuck`, event_types: ['ticket.created'] });
    await subscribe(ctx, { url: `${healthy.url}/ok`, event_types: ['ticket.created'] });
    const ids = Array.from({ length: 150 }, (_, i) => `evt-p-${i}`);
    for (let i = 0; i < ids.length; i += 10) await Promise.all(ids.slice(i, i + 10).map((id) => publish(ctx, id)));

    // Every event reaches the healthy endpoint although the other one answers nothing.
    await healthy.waitFor(150, 15_000);
    // Most were created parked (the first few wait in the pod's queue before the subscription counts as
    // saturated); the scheduler may already have released some of them to the retries stream.
    const parked = await ctx.db.query(
      `SELECT count(*)::int AS n, bool_and(next_attempt_at > created_at) AS scheduled
         FROM deliveries WHERE subscription_id = $1 AND status = 'pending' AND attempt_count = 0
          AND reason = 'waiting: the endpoint has too many requests open'`,
      [stuckSub],
    );
    expect(parked.rows[0].n).toBeGreaterThanOrEqual(75);
    expect(parked.rows[0].scheduled).toBe(true);
    // The stuck endpoint has only its two open requests, nothing was attempted beyond them.
    expect(stuck.requests.length).toBeLessThanOrEqual(2 * 2);

    release();
    await eventually(async () => {
      const d = await ctx.db.query(`SELECT status, count(*)::int AS n FROM deliveries WHERE subscription_id = $1 GROUP BY status`, [stuckSub]);
      expect(d.rows).toEqual([{ status: 'delivered', n: 150 }]);
    }, 60_000);
    const received = stuck.requests.map((r) => (r.json() as { id: string }).id);
    expect(new Set(received).size).toBe(150);
    expect(received.length).toBe(150);
  }, 90_000);
});

describe('a retry job JetStream lost is enqueued again (the overdue sweep)', () => {
  let ctx: TenantHub;
  let receiver: TestReceiver;
  let nc: NatsConnection;
  let subjects: SubjectNames;

  beforeAll(async () => {
    // Overdue after 10 s: the sweep looks every 2.5 s.
    ctx = await startTenantHub({ RETRY_OVERDUE_AFTER_MS: 10_000 });
    receiver = await new TestReceiver().start();
    nc = await connect({ servers: ctx.env.natsUrl });
    subjects = new SubjectNames(ctx.env.prefix);
  });
  afterAll(async () => {
    await nc?.close();
    await receiver.stop();
    await stopTenantHub(ctx);
  });

  /** The delivery of `eventId` once its first attempt failed and its retry job is on the stream: the job's sequence. */
  async function retryingWithJob(eventId: string): Promise<{ deliveryId: string; subscriptionId: string; seq: number }> {
    const jsm = await nc.jetstreamManager();
    let found: { deliveryId: string; subscriptionId: string; seq: number } | undefined;
    await eventually(async () => {
      const d = await ctx.db.query(`SELECT id, subscription_id, status FROM deliveries WHERE event_id = $1`, [eventId]);
      expect(d.rows).toEqual([expect.objectContaining({ status: 'retrying' })]);
      const job = await jsm.streams.getMessage(subjects.retriesStream, { last_by_subj: subjects.retry(d.rows[0].subscription_id, d.rows[0].id) });
      found = { deliveryId: d.rows[0].id, subscriptionId: d.rows[0].subscription_id, seq: job.seq };
    });
    return found!;
  }

  async function recovered(): Promise<number> {
    let total = 0;
    for (const app of ctx.hub.dispatchers) {
      const port = (app.getHttpServer().address() as AddressInfo).port;
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      total += Number(/hookhub_retry_jobs_recovered_total\{cause="missing"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    }
    return total;
  }

  it('sends the attempt whose job vanished from the retries stream, once, after the overdue time', async () => {
    receiver.respond = (req) => (req.headers['x-webhook-attempt'] === '1' ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' });
    await subscribe(ctx, { url: `${receiver.url}/lost`, event_types: ['ticket.created'], retry_policy_ms: [3_000] });
    await publish(ctx, 'evt-lost-job');
    const { deliveryId, seq } = await retryingWithJob('evt-lost-job');
    // What a crashed JetStream node did in soak run 3: the acknowledged job is gone.
    await (await nc.jetstreamManager()).streams.deleteMessage(subjects.retriesStream, seq);

    const requests = await receiver.waitFor(2, 40_000);
    expect(requests.map((r) => [r.url, r.headers['x-webhook-delivery'], r.headers['x-webhook-attempt']])).toEqual([
      ['/lost', deliveryId, '1'],
      ['/lost', deliveryId, '2'],
    ]);
    // Not at its due time (its job was gone) but once it was overdue: 3 s + 10 s.
    expect(requests[1].receivedAt - requests[0].receivedAt).toBeGreaterThanOrEqual(12_500);
    await eventually(async () => {
      const d = await ctx.db.query(`SELECT status, attempt_count, parked FROM deliveries WHERE id = $1`, [deliveryId]);
      expect(d.rows).toEqual([{ status: 'delivered', attempt_count: 2, parked: false }]);
    });
    expect(await recovered()).toBe(1);
  }, 60_000);

  it('leaves alone an overdue attempt whose job is still there: one attempt, no second job', async () => {
    receiver.respond = (req) => (req.headers['x-webhook-attempt'] === '1' ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' });
    const before = receiver.requests.length;
    await subscribe(ctx, { url: `${receiver.url}/waiting`, event_types: ['ticket.updated'], retry_policy_ms: [20_000] });
    await publish(ctx, 'evt-waiting-job', 'ticket.updated', 'evt-waiting-job');
    const { deliveryId } = await retryingWithJob('evt-waiting-job');
    // The database says the attempt is long overdue, as it does for a saturated subscription's job nak'd again and again.
    await ctx.db.query(`UPDATE deliveries SET next_attempt_at = now() - interval '1 hour' WHERE id = $1`, [deliveryId]);
    // The sweep looks, finds the job and only moves the row to the back of its line.
    await eventually(async () => {
      const d = await ctx.db.query(`SELECT next_attempt_at > now() - interval '1 minute' AS looked, parked FROM deliveries WHERE id = $1`, [deliveryId]);
      expect(d.rows).toEqual([{ looked: true, parked: false }]);
    }, 15_000);

    await eventually(async () => {
      const d = await ctx.db.query(`SELECT status, attempt_count FROM deliveries WHERE id = $1`, [deliveryId]);
      expect(d.rows).toEqual([{ status: 'delivered', attempt_count: 2 }]);
    }, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(receiver.requests.slice(before).map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '2']);
    expect(await recovered()).toBe(1);
  }, 60_000);
});
