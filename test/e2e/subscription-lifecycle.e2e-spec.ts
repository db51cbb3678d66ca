import { randomUUID } from 'node:crypto';
import { AttemptRecord, DeliveryOutcomeRepository, FanOutRepository } from '@hookhub/persistence';
import { eventually } from '../support/eventually';
import { TestReceiver } from '../support/receiver';
import { startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';

interface SubscriptionBody {
  id: string;
  state: string;
  state_reason: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  disable_after_failing_ms: number | null;
  disabled_at: string | null;
}

async function getSubscription(ctx: TenantHub, id: string): Promise<SubscriptionBody> {
  const res = await ctx.hub.api.request<SubscriptionBody>('GET', `/v1/subscriptions/${id}`, { token: ctx.tenant.adminKey });
  if (res.status !== 200) throw new Error(`GET subscription: ${res.status} ${res.text}`);
  return res.body;
}

async function publish(ctx: TenantHub, id: string, type = 'ticket.created'): Promise<void> {
  const res = await ctx.hub.api.request('POST', '/v1/events', { token: ctx.publisher, body: { id, type, model_id: id, model: { id } } });
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${res.text}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const deliveryIdOf = (req: { headers: Record<string, string | string[] | undefined> }) => String(req.headers['x-webhook-delivery']);

/** Receivers the tests start, stopped once the file is done. */
const receivers: TestReceiver[] = [];
const receiver = async () => {
  const r = await new TestReceiver().start();
  receivers.push(r);
  return r;
};
afterAll(async () => {
  for (const r of receivers) await r.stop();
});

describe('deleting a subscription while its attempts are in flight', () => {
  let ctx: TenantHub;

  beforeAll(async () => {
    ctx = await startTenantHub();
  });
  afterAll(async () => {
    await stopTenantHub(ctx);
  });

  it('an attempt whose delivery went with its subscription is left out; the rest of its batch is written', async () => {
    const [gone, kept] = [await receiver(), await receiver()];
    const goneId = await subscribe(ctx, { url: `${gone.url}/gone`, event_types: ['ticket.created'] });
    const keptId = await subscribe(ctx, { url: `${kept.url}/kept`, event_types: ['ticket.created'] });
    await publish(ctx, 'evt-batch');
    await Promise.all([gone.waitFor(1), kept.waitFor(1)]);
    let ids: Record<string, string> = {};
    await eventually(async () => {
      const d = await ctx.db.query(`SELECT id, subscription_id FROM deliveries WHERE event_id = 'evt-batch' AND status = 'delivered'`);
      expect(d.rows).toHaveLength(2);
      ids = Object.fromEntries(d.rows.map((r: { id: string; subscription_id: string }) => [r.subscription_id, r.id]));
    });
    expect((await ctx.hub.api.request('DELETE', `/v1/subscriptions/${goneId}`, { token: ctx.tenant.adminKey })).status).toBe(204);

    // One batch, as the dispatcher writes it when both answers come back together.
    const record = (deliveryId: string, subscriptionId: string): AttemptRecord => ({
      id: randomUUID(),
      deliveryId,
      attempt: 2,
      outcome: 'success',
      startedAt: new Date(),
      durationMs: 5,
      requestUrl: 'http://127.0.0.1/hook',
      requestHeaders: {},
      responseStatus: 200,
      responseHeaders: {},
      responseBody: 'ok',
      error: null,
      status: 'delivered',
      reason: null,
      nextAttemptAt: null,
      parked: false,
      subscriptionId,
      health: 'success',
    });
    const repo = ctx.hub.dispatchers[0].get(DeliveryOutcomeRepository);
    await expect(repo.recordAttempts([record(ids[goneId], goneId), record(ids[keptId], keptId)], 10, 0)).resolves.toEqual([]);

    const attempts = await ctx.db.query(`SELECT delivery_id, attempt FROM delivery_attempts WHERE delivery_id = ANY($1) ORDER BY attempt`, [
      [ids[goneId], ids[keptId]],
    ]);
    expect(attempts.rows).toEqual([
      { delivery_id: ids[keptId], attempt: 1 },
      { delivery_id: ids[keptId], attempt: 2 },
    ]);
  });

  it('a fan-out that read a subscription deleted since creates the others’ deliveries and skips its own', async () => {
    const kept = await receiver();
    const keptId = await subscribe(ctx, { url: `${kept.url}/kept`, event_types: ['ticket.created'] });
    await publish(ctx, 'evt-fanout');
    await kept.waitFor(1);
    // The dispatcher read both subscriptions, then one was deleted before its transaction inserted the deliveries.
    const deletedId = randomUUID();
    const repo = ctx.hub.dispatchers[0].get(FanOutRepository);
    const rows = [deletedId, keptId].map((subscriptionId) => ({
      id: randomUUID(),
      tenantId: ctx.tenant.tenantId,
      subscriptionId,
      eventId: 'evt-fanout-2',
      eventType: 'ticket.created',
    }));
    await ctx.db.query(
      `INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at)
       SELECT tenant_id, 'evt-fanout-2', type, model_type, model_id, version + 1, 'UPDATE', envelope, created_at FROM events WHERE id = 'evt-fanout'`,
    );
    const created = await repo.ensureForEvents(rows);
    expect(created.map((d) => d.subscriptionId)).toEqual([keptId]);
  });

  it('under load: other subscriptions’ attempts are recorded within a second, auto-disable keeps working, nothing more reaches the deleted one', async () => {
    const [doomed, healthy, dead, notices] = [await receiver(), await receiver(), await receiver(), await receiver()];
    // Both endpoints answer slowly, so the deleted subscription's answers arrive among the healthy one's.
    doomed.respond = () => ({ status: 200, body: 'ok', delayMs: 400 });
    const answeredAt = new Map<string, number>();
    healthy.respond = (req) => {
      if (!answeredAt.has(deliveryIdOf(req))) answeredAt.set(deliveryIdOf(req), Date.now() + 300);
      return { status: 200, body: 'ok', delayMs: 300 };
    };
    dead.respond = () => ({ status: 500, body: 'down' });
    await subscribe(ctx, { url: `${notices.url}/notices`, event_types: ['webhook.disabled'] });
    const doomedId = await subscribe(ctx, { url: `${doomed.url}/doomed`, event_types: ['ticket.updated'] });
    const healthyId = await subscribe(ctx, { url: `${healthy.url}/healthy`, event_types: ['ticket.updated'] });

    // When each healthy delivery is first seen recorded (delivered, with its attempt).
    const recordedAt = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const rows = await ctx.db.query(
          `SELECT d.id FROM deliveries d WHERE d.subscription_id = $1 AND d.status = 'delivered'
              AND EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id AND a.outcome = 'success')`,
          [healthyId],
        );
        const now = Date.now();
        for (const r of rows.rows as Array<{ id: string }>) if (!recordedAt.has(r.id)) recordedAt.set(r.id, now);
        await sleep(25);
      }
    })();

    const events = 60;
    let deletedAt = 0;
    let deadId = '';
    for (let i = 0; i < events; i++) {
      await publish(ctx, `evt-load-${i}`, 'ticket.updated');
      if (i === 20) {
        await eventually(() => expect(doomed.requests.length).toBeGreaterThan(0), 5_000, 10);
        // A dead endpoint that starts failing now: its tenth failure lands among the deleted subscription's answers.
        deadId = await subscribe(ctx, {
          url: `${dead.url}/dead`,
          event_types: ['ticket.updated'],
          retry_policy_ms: [100, 100, 100],
          disable_after_failing_ms: 0,
        });
        const res = await ctx.hub.api.request('DELETE', `/v1/subscriptions/${doomedId}`, { token: ctx.tenant.adminKey });
        expect(res.status).toBe(204);
        deletedAt = Date.now();
      }
      await sleep(40);
    }

    await eventually(async () => {
      const d = await ctx.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE subscription_id = $1 AND status = 'delivered'`, [healthyId]);
      expect(d.rows[0].n).toBe(events);
    }, 30_000);
    await sleep(200);
    polling = false;
    await poller;

    // Every healthy delivery was sent once and recorded within a second of its answer.
    expect(healthy.requests).toHaveLength(events);
    expect(new Set(healthy.requests.map(deliveryIdOf)).size).toBe(events);
    const lags = [...answeredAt].map(([id, at]) => (recordedAt.get(id) ?? Infinity) - at);
    expect(Math.max(...lags)).toBeLessThan(1_000);

    // The dead endpoint was disabled meanwhile and the admins were told.
    const [notice] = await notices.waitFor(1, 10_000);
    expect((notice.json() as { data: { subscription_id: string } }).data.subscription_id).toBe(deadId);
    expect((await getSubscription(ctx, deadId)).state).toBe('disabled');

    // The deleted subscription: gone with its log; what was on the wire when it was deleted may still have arrived, nothing later.
    expect((await ctx.hub.api.request('GET', `/v1/subscriptions/${doomedId}`, { token: ctx.tenant.adminKey })).status).toBe(404);
    const left = await ctx.db.query(
      `SELECT (SELECT count(*)::int FROM deliveries WHERE subscription_id = $1) AS deliveries,
              (SELECT count(*)::int FROM delivery_attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)) AS orphans`,
      [doomedId],
    );
    expect(left.rows).toEqual([{ deliveries: 0, orphans: 0 }]);
    expect(doomed.requests.filter((r) => r.receivedAt > deletedAt + 1_500)).toEqual([]);
  });
});

describe('auto-disable needs ten consecutive failures and a minimum failing time', () => {
  let ctx: TenantHub;

  beforeAll(async () => {
    // The hub's default, shortened for the test; one subscription below sets its own.
    ctx = await startTenantHub({ DISABLE_AFTER_FAILING_MS: 4_000 });
  });
  afterAll(async () => {
    await stopTenantHub(ctx);
  });

  it('a burst into a brief outage leaves the subscription enabled; its retries deliver once the endpoint is back', async () => {
    const flaky = await receiver();
    let down = true;
    flaky.respond = () => (down ? { status: 503, body: 'deploying' } : { status: 200, body: 'ok' });
    const id = await subscribe(ctx, { url: `${flaky.url}/flaky`, event_types: ['ticket.created'], retry_policy_ms: [100, 100, 100, 2_500] });
    for (let i = 0; i < 5; i++) await publish(ctx, `evt-burst-${i}`);

    // Twenty failed attempts within about a second: the count alone would have disabled it.
    let during: SubscriptionBody | undefined;
    await eventually(
      async () => {
        during = await getSubscription(ctx, id);
        expect(during.consecutive_failures).toBeGreaterThanOrEqual(10);
      },
      10_000,
      50,
    );
    expect(during).toMatchObject({ state: 'active', disable_after_failing_ms: null, disabled_at: null });
    expect(Date.parse(during!.failing_since!)).toBeLessThanOrEqual(Date.now());

    await eventually(
      async () => {
        const failed = await ctx.db.query(
          `SELECT count(*)::int AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = $1`,
          [id],
        );
        expect(failed.rows[0].n).toBe(20);
      },
      10_000,
      50,
    );
    down = false;

    await eventually(async () => {
      const d = await ctx.db.query(`SELECT status, count(*)::int AS n FROM deliveries WHERE subscription_id = $1 GROUP BY status`, [id]);
      expect(d.rows).toEqual([{ status: 'delivered', n: 5 }]);
    }, 15_000);
    expect(await getSubscription(ctx, id)).toMatchObject({ state: 'active', state_reason: null, consecutive_failures: 0, failing_since: null });
  });

  it('a long outage disables and notifies: after the subscription’s own time, or else the hub’s', async () => {
    const [dead, notices] = [await receiver(), await receiver()];
    dead.respond = () => ({ status: 500, body: 'down' });
    await subscribe(ctx, { url: `${notices.url}/notices`, event_types: ['webhook.disabled'] });
    const policy = Array.from({ length: 19 }, () => 250);
    const own = await subscribe(ctx, { url: `${dead.url}/own`, event_types: ['message.created'], retry_policy_ms: policy, disable_after_failing_ms: 1_500 });
    const hubs = await subscribe(ctx, { url: `${dead.url}/hubs`, event_types: ['message.created'], retry_policy_ms: policy });
    for (let i = 0; i < 3; i++) {
      const res = await ctx.hub.api.request('POST', '/v1/events', {
        token: ctx.publisher,
        body: { id: `evt-outage-${i}`, type: 'message.created', model_id: `m-${i}`, model: { id: `m-${i}`, ticket_id: 't-1' } },
      });
      expect(res.status).toBe(202);
    }

    const notified = await notices.waitFor(2, 20_000);
    const bySubscription = new Map(
      notified.map((n) => {
        const body = n.json() as { type: string; data: { subscription_id: string; consecutive_failures: number } };
        return [body.data.subscription_id, body];
      }),
    );
    for (const [id, minimum] of [
      [own, 1_500],
      [hubs, 4_000],
    ] as const) {
      expect(bySubscription.get(id)).toMatchObject({ type: 'webhook.disabled', data: { subscription_id: id } });
      expect(bySubscription.get(id)!.data.consecutive_failures).toBeGreaterThanOrEqual(10);
      const sub = await getSubscription(ctx, id);
      expect(sub.state).toBe('disabled');
      expect(sub.state_reason).toMatch(/^disabled after \d+ consecutive failed attempts, failing since /);
      const failedFor = Date.parse(sub.disabled_at!) - Date.parse(sub.failing_since!);
      expect(failedFor).toBeGreaterThanOrEqual(minimum);
      // …and not much later: the first failure after the time was up disabled it.
      expect(failedFor).toBeLessThan(minimum + 1_500);
      const open = await ctx.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE subscription_id = $1 AND status IN ('pending', 'retrying')`, [id]);
      expect(open.rows[0].n).toBe(0);
    }
    expect((await getSubscription(ctx, own)).disable_after_failing_ms).toBe(1_500);
    const sent = dead.requests.length;
    await sleep(800);
    expect(dead.requests.length).toBe(sent);
  });

  it('refuses a bad minimum failing time with a problem document and changes nothing; null restores the hub default', async () => {
    const target = await receiver();
    const id = await subscribe(ctx, { url: `${target.url}/x`, event_types: ['ticket.created'], disable_after_failing_ms: 60_000 });
    for (const bad of [-1, 1.5, '60000', 8 * 24 * 3_600_000]) {
      const res = await ctx.hub.api.request('PATCH', `/v1/subscriptions/${id}`, { token: ctx.tenant.adminKey, body: { disable_after_failing_ms: bad } });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(JSON.stringify(res.body)).toContain('disable_after_failing_ms');
    }
    expect((await getSubscription(ctx, id)).disable_after_failing_ms).toBe(60_000);
    const cleared = await ctx.hub.api.request<SubscriptionBody>('PATCH', `/v1/subscriptions/${id}`, {
      token: ctx.tenant.adminKey,
      body: { disable_after_failing_ms: null },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.disable_after_failing_ms).toBeNull();
  });
});
