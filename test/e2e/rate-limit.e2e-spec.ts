import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { SubjectNames } from '@hookhub/contracts';
import { anEnvelope, mostInWindow } from '@hookhub/testing';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { AppProcess, buildApp, startAppProcess, stopProcess } from '../support/processes';
import { ReceivedRequest, TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { logRun } from '../support/test-logs';

/** The dispatcher built under dist/ (`npm test` builds first); built here only when missing. */
function builtDispatcher(): string {
  const main = join(__dirname, '..', '..', 'dist', 'apps', 'dispatcher', 'main.js');
  return existsSync(main) ? main : buildApp('dispatcher');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Arrivals per second in `[from, to)`. */
const rateIn = (times: number[], from: number, to: number): number => times.filter((t) => t >= from && t < to).length / ((to - from) / 1000);

/**
 * Issue #15: a subscription's rate limit holds for the sum of the dispatcher
 * pods. Three dispatcher processes (the second test freezes and kills one
 * while it holds a lease of the budget; the receiver in this process has a
 * quiet event loop, so its arrival times are the arrivals'), a
 * limited subscription fed far faster than its limit and an unlimited one
 * receiving the same events, real NATS, PostgreSQL and a loopback receiver.
 */
describe('rate limits, enforced across three dispatchers', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  const pods: AppProcess[] = [];
  let receiver: TestReceiver;
  let nc: NatsConnection;
  let db: Client;
  let tenant: { tenantId: string; adminKey: string };

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env, {}, { dispatchers: 0 });
    // The ack wait (5 s, the least allowed) is also how long deliveries a pod took from a line stay with it if it dies.
    const start = () => startAppProcess(builtDispatcher(), env.config({ DISPATCHER_ACK_WAIT_MS: 5_000 }), 'DISPATCHER_PORT');
    // The first creates the streams and consumers, the others find them.
    pods.push(await start());
    pods.push(...(await Promise.all([start(), start()])));
    receiver = await new TestReceiver().start();
    nc = await connect({ servers: env.natsUrl });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    tenant = await hub.api.createTenant();
  });

  afterAll(async () => {
    for (const p of pods) await stopProcess(p, 'SIGKILL');
    await hub?.close();
    await receiver?.stop();
    await nc?.close();
    await db?.end();
    await env?.teardown();
  });

  const subscribe = async (path: string, rateLimit?: { per_second: number; burst?: number }): Promise<string> => {
    const res = await hub.api.request<{ id: string; rate_limit: unknown }>('POST', '/v1/subscriptions', {
      token: tenant.adminKey,
      body: { url: `${receiver.url}${path}`, event_types: ['ticket.updated'], ...(rateLimit ? { rate_limit: rateLimit } : {}) },
    });
    if (res.status !== 201) throw new Error(`subscription: ${res.status} ${res.text}`);
    return res.body.id;
  };
  /** Events published straight to JetStream as fast as it takes them, in order; event `i` is about ticket `modelOf(i)`. */
  const publish = async (prefix: string, count: number, modelOf = (i: number) => i): Promise<void> => {
    const subjects = new SubjectNames(env.prefix);
    const js = nc.jetstream();
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, k) => {
          const id = `${prefix}-${i + k}`;
          const modelId = `${prefix}-t-${modelOf(i + k)}`;
          const envelope = anEnvelope({ id, account_id: tenant.tenantId, type: 'ticket.updated', model_id: modelId, model: { id: modelId } });
          return js.publish(subjects.event(tenant.tenantId, 'ticket.updated'), Buffer.from(JSON.stringify(envelope)), {
            msgID: SubjectNames.eventMsgId(tenant.tenantId, id),
          });
        }),
      );
    }
  };
  const at = (path: string): ReceivedRequest[] => receiver.requests.filter((r) => r.url === path);
  const waitAt = async (path: string, count: number, timeoutMs: number): Promise<void> =>
    eventually(() => expect(new Set(at(path).map((r) => r.headers['x-webhook-delivery'])).size).toBeGreaterThanOrEqual(count), timeoutMs, 50);
  /** Each delivery's place in its line, by delivery id. */
  const placesOf = async (subscriptionId: string): Promise<Map<string, bigint>> => {
    const rows = await db.query<{ id: string; rate_seq: string }>(`SELECT id, rate_seq FROM deliveries WHERE subscription_id = $1`, [subscriptionId]);
    return new Map(rows.rows.map((r) => [r.id, BigInt(r.rate_seq)]));
  };
  const states = async (subscriptionId: string) =>
    (
      await db.query<{ status: string; attempt_count: number; attempts: number; n: number }>(
        `SELECT d.status, d.attempt_count, (SELECT count(*)::int FROM delivery_attempts a WHERE a.delivery_id = d.id) AS attempts, count(*)::int AS n
           FROM deliveries d WHERE d.subscription_id = $1 GROUP BY 1, 2, 3`,
        [subscriptionId],
      )
    ).rows;
  const leasedBy = async (port: number): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/^hookhub_rate_limit_leased_total (\S+)$/m.exec(text)?.[1] ?? 0);
  };

  it('takes rate_limit on create and PATCH (null removes it), shows it on GET and the list, and refuses bad values with a 422 naming the field', async () => {
    const id = await subscribe('/api', { per_second: 5 });
    const get = () => hub.api.request<{ rate_limit: unknown; updated_at: string }>('GET', `/v1/subscriptions/${id}`, { token: tenant.adminKey });
    const patch = (body: unknown) => hub.api.request<{ rate_limit: unknown }>('PATCH', `/v1/subscriptions/${id}`, { token: tenant.adminKey, body });
    // burst defaults to per_second.
    expect((await get()).body.rate_limit).toEqual({ per_second: 5, burst: 5 });

    const refusals: Array<[unknown, string]> = [
      [{ per_second: 0 }, '#/rate_limit/per_second'],
      [{ per_second: 10, burst: 9 }, '#/rate_limit/burst'],
      [{ per_second: '10' }, '#/rate_limit/per_second'],
      [{ burst: 10 }, '#/rate_limit/per_second'],
      [{ per_second: 10, every: 'minute' }, '#/rate_limit/every'],
      [[{ per_second: 10 }], '#/rate_limit'],
    ];
    const before = await get();
    for (const [value, pointer] of refusals) {
      for (const res of [
        await patch({ rate_limit: value }),
        await hub.api.request('POST', '/v1/subscriptions', {
          token: tenant.adminKey,
          body: { url: `${receiver.url}/refused`, event_types: ['ticket.updated'], rate_limit: value },
        }),
      ]) {
        expect(res.status).toBe(422);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ type: expect.stringMatching(/invalid-rate-limit$/), status: 422, errors: [expect.objectContaining({ pointer })] });
      }
    }
    // Nothing changed, nothing was created.
    expect(await get()).toMatchObject({ body: before.body });
    const list = await hub.api.request<{ items: Array<{ url: string; rate_limit: unknown }> }>('GET', '/v1/subscriptions', { token: tenant.adminKey });
    expect(list.body.items.filter((i) => i.url.endsWith('/refused'))).toEqual([]);
    expect(list.body.items.find((i) => i.url.endsWith('/api'))?.rate_limit).toEqual({ per_second: 5, burst: 5 });

    expect((await patch({ rate_limit: { per_second: 100, burst: 250 } })).body.rate_limit).toEqual({ per_second: 100, burst: 250 });
    expect((await patch({ description: 'other fields leave it' })).body.rate_limit).toEqual({ per_second: 100, burst: 250 });
    expect((await patch({ rate_limit: null })).body.rate_limit).toBeNull();
    const [row] = (await db.query(`SELECT rate_per_second, rate_burst FROM subscriptions WHERE id = $1`, [id])).rows;
    expect(row).toEqual({ rate_per_second: null, rate_burst: null });
  });

  it('sends a limited subscription at its rate summed over the pods, in line order, each once; the unlimited one is unaffected', async () => {
    const EVENTS = 240;
    const limit = { per_second: 40, burst: 50 };
    const limited = await subscribe('/limited', limit);
    const unlimited = await subscribe('/unlimited');
    const shown = await hub.api.request<{ rate_limit: unknown }>('GET', `/v1/subscriptions/${limited}`, { token: tenant.adminKey });
    expect(shown.body.rate_limit).toEqual(limit);

    // 200 tickets, and then a second version of the first 40: those wait for their first (resource order), then join the line.
    const started = Date.now();
    await publish('a', EVENTS, (i) => (i < 200 ? i : i - 200));
    await waitAt('/unlimited', EVENTS, 15_000);
    const unlimitedDone = Date.now();
    await waitAt('/limited', EVENTS, 20_000);

    const arrivals = at('/limited');
    const times = arrivals.map((r) => r.receivedAt);
    const first = Math.min(...times);
    const last = Math.max(...times);
    // The first second holds the burst (burst − per_second = 10 at once); after it, the steady rate.
    const steady = rateIn(times, first + 1_000, last + 1);
    // The limit is on the requests the pods start (the attempts' started_at, one clock on this machine). Arrivals here
    // can bunch up beyond it when this process, which also runs the receiver, is starved of CPU for a moment.
    const startedAt = await db.query<{ ms: number }>(
      `SELECT (extract(epoch FROM a.started_at) * 1000)::float8 AS ms FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = $1`,
      [limited],
    );
    const most = mostInWindow(startedAt.rows.map((r) => r.ms));
    const mostArriving = mostInWindow(times);
    // The line's order: each delivery's place, in the order they arrived. A pair of arrivals out of place is one a pod
    // starved of CPU put back in line (its time passed) or one sent a few ms after its neighbour from another pod.
    const places = await placesOf(limited);
    const placeOf = (r: ReceivedRequest) => places.get(String(r.headers['x-webhook-delivery']))!;
    const inArrivalOrder = [...arrivals].sort((a, b) => a.receivedAt - b.receivedAt);
    const inOrder = inArrivalOrder.slice(1).filter((r, i) => placeOf(inArrivalOrder[i]) < placeOf(r)).length / (EVENTS - 1);
    let latestLate = 0;
    const byPlace = [...arrivals].sort((a, b) => (placeOf(a) < placeOf(b) ? -1 : 1));
    byPlace.forEach((r, i) => {
      for (const younger of byPlace.slice(i + 1)) latestLate = Math.max(latestLate, r.receivedAt - younger.receivedAt);
    });
    // Resource order: a ticket's second version arrives after its first.
    const versionsOf = new Map<string, string[]>();
    for (const r of inArrivalOrder) {
      const model = (r.json() as { model_id: string }).model_id;
      versionsOf.set(model, [...(versionsOf.get(model) ?? []), String(r.headers['x-webhook-resource-version'])]);
    }
    const leased = await Promise.all(pods.map((p) => leasedBy(p.port)));
    logRun(
      `limited: ${arrivals.length} in ${last - first} ms, steady ${steady.toFixed(1)}/s, most started in a second ${most} (arriving ${mostArriving}), ` +
        `${(inOrder * 100).toFixed(1)} % of neighbours in line order, latest out of order ${latestLate} ms, ` +
        `leased per pod ${leased.join('/')}; unlimited done ${unlimitedDone - started} ms after publishing started`,
    );

    expect(steady).toBeGreaterThanOrEqual(limit.per_second * 0.9);
    expect(steady).toBeLessThanOrEqual(limit.per_second * 1.1);
    expect(most).toBeLessThanOrEqual(limit.burst);
    // Sent in line order, 25 ms apart: the arrivals keep it but for the odd one put back (random order would be half).
    expect(inOrder).toBeGreaterThanOrEqual(0.9);
    expect([...versionsOf.values()].filter((v) => v.length > 1)).toEqual(Array(40).fill(['1', '2']));
    // Every pod took its share of the budget.
    for (const n of leased) expect(n).toBeGreaterThan(0);
    // Nothing failed, nothing was sent twice, waiting was no attempt.
    expect(new Set(arrivals.map((r) => r.headers['x-webhook-delivery'])).size).toBe(EVENTS);
    expect(arrivals.every((r) => r.headers['x-webhook-attempt'] === '1')).toBe(true);
    await eventually(async () => expect(await states(limited)).toEqual([{ status: 'delivered', attempt_count: 1, attempts: 1, n: EVENTS }]));
    // The unlimited subscription had everything before the limited one was half through.
    expect(unlimitedDone).toBeLessThan(first + (last - first) / 2);
    expect(await states(unlimited)).toEqual([{ status: 'delivered', attempt_count: 1, attempts: 1, n: EVENTS }]);
  });

  it('a pod frozen and killed while holding a lease stalls the limit for no longer than its lease; what it had taken is sent after its hold', async () => {
    const pod = pods[0];
    const EVENTS = 200;
    // Some room over the rate: a pod of a loaded machine then sends a little late rather than put deliveries back.
    const limit = { per_second: 40, burst: 50 };
    const limited = await subscribe('/killed', limit);
    await publish('k', EVENTS);
    await waitAt('/killed', 40, 15_000);

    // Freeze a pod until it is caught holding a lease: deliveries taken from the line more than half a second
    // ago and still not recorded are its (the other pods send theirs within a quarter of a second of taking them). Not
    // frozen inside the lease's transaction, though: that would hold the budget's row lock until PostgreSQL ends the idle
    // transaction (DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS), a different fault.
    let frozenAt = 0;
    let held = 0;
    for (let tries = 0; tries < 20 && held === 0; tries++) {
      pod.child.kill('SIGSTOP');
      frozenAt = Date.now();
      await sleep(700);
      const r = await db.query<{ n: number; free: boolean }>(
        `SELECT count(*)::int AS n,
                EXISTS (SELECT 1 FROM subscription_rate_budgets WHERE subscription_id = $1 FOR UPDATE SKIP LOCKED) AS free
           FROM deliveries
          WHERE subscription_id = $1 AND parked AND status = 'pending' AND attempt_count = 0 AND updated_at < now() - interval '500 milliseconds'`,
        [limited],
      );
      held = r.rows[0].free ? r.rows[0].n : 0;
      if (held === 0) {
        pod.child.kill('SIGCONT');
        await sleep(100 + Math.random() * 200);
      }
    }
    expect(held).toBeGreaterThan(0);
    await stopProcess(pod, 'SIGKILL');
    const killedAt = Date.now();

    await waitAt('/killed', EVENTS, 25_000);
    // Each delivery's first arrival (one the dead pod had on the wire when it froze arrives twice).
    const firsts = new Map<string, number>();
    for (const r of at('/killed')) if (!firsts.has(String(r.headers['x-webhook-delivery']))) firsts.set(String(r.headers['x-webhook-delivery']), r.receivedAt);
    const times = [...firsts.values()].sort((a, b) => a - b);
    // From a second before the freeze until everything but what the dead pod held had arrived: no long gap, the rate kept.
    const othersDone = times[EVENTS - held - 1];
    const during = times.filter((t) => t >= frozenAt - 1_000 && t <= othersDone);
    const longestGap = Math.max(...during.slice(1).map((t, i) => t - during[i]));
    const rateAfter = rateIn(times, frozenAt, othersDone + 1);
    logRun(
      `killed pod held ${held}; longest gap ${longestGap} ms, rate from the freeze to the others' last ${rateAfter.toFixed(1)}/s; ` +
        `its deliveries came back ${times[EVENTS - 1] - killedAt} ms after the kill`,
    );
    // Its lease (a quarter of a second) and the others' next leases: under a second. A lease nobody took back
    // would stall it for seconds (the stranded sweep); 600 ms was missed by 11 ms in CI on a starved machine.
    expect(longestGap).toBeLessThan(1_000);
    expect(rateAfter).toBeGreaterThanOrEqual(limit.per_second * 0.8);
    expect(rateAfter).toBeLessThanOrEqual(limit.per_second * 1.1);
    // What it held came back once its hold ended, was sent and is recorded once: first attempts all.
    await eventually(async () => expect(await states(limited)).toEqual([{ status: 'delivered', attempt_count: 1, attempts: 1, n: EVENTS }]), 10_000);
  });
});
