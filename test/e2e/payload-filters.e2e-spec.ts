import type { AddressInfo } from 'node:net';
import { eventually } from '../support/eventually';
import type { ReceivedRequest } from '../support/receiver';
import { TestReceiver } from '../support/receiver';
import { startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';

/** Payload filters (#15) against real deliveries: the hub in this process, real NATS and PostgreSQL, a loopback receiver. */

interface SubscriptionBody {
  id: string;
  filter: Record<string, unknown> | null;
  filtered_count: number;
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors: Array<{ pointer: string; detail: string }>;
}

let ctx: TenantHub;
let receiver: TestReceiver;
const startedAt = new Date();

beforeAll(async () => {
  ctx = await startTenantHub();
  receiver = await new TestReceiver().start();
});
afterAll(async () => {
  await receiver?.stop();
  await stopTenantHub(ctx);
});

const request = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
  ctx.hub.api.request<T>(method, path, { token: ctx.tenant.adminKey, body });

async function getSubscription(id: string): Promise<SubscriptionBody> {
  const res = await request<SubscriptionBody>('GET', `/v1/subscriptions/${id}`);
  if (res.status !== 200) throw new Error(`GET subscription: ${res.status} ${res.text}`);
  return res.body;
}

async function publish(event: { id: string; type: string; model: Record<string, unknown> } & Record<string, unknown>): Promise<void> {
  const res = await ctx.hub.api.request('POST', '/v1/events', { token: ctx.publisher, body: { model_id: event.model.id, ...event } });
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${res.text}`);
}

/** Event ids the receiver got on a path (full format: the envelope's id). */
const arrived = (path: string): string[] =>
  receiver.requests
    .filter((r: ReceivedRequest) => r.url === path)
    .map((r) => (r.json() as { id: string }).id)
    .sort();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a matrix of operators against real deliveries', () => {
  // Four events about four tickets; each case names the ones its filter lets through.
  const events = [
    {
      id: 'm-e1',
      type: 'ticket.created',
      actor_type: 'user',
      model: {
        id: 'm-t1',
        number: 10,
        state: 'open',
        priority: 'high',
        subject: 'Refund request',
        label_ids: ['vip', 'billing'],
        lines: [
          { sku: 'a', qty: 1 },
          { sku: 'b', qty: 5 },
        ],
        custom: { region: 'eu' },
      },
    },
    {
      id: 'm-e2',
      type: 'ticket.updated',
      actor_type: 'system',
      data: { changes: { state: ['open', 'hold'] } },
      model: { id: 'm-t2', number: 3, state: 'hold', priority: 'low', subject: 'Question', label_ids: [] },
    },
    {
      id: 'm-e3',
      type: 'ticket.updated',
      actor_type: 'user',
      data: { changes: { priority: ['high', 'urgent'] } },
      model: {
        id: 'm-t3',
        number: 42,
        state: 'closed',
        priority: 'urgent',
        subject: 'refund now',
        label_ids: ['billing'],
        lines: [{ sku: 'a', qty: 9 }],
        custom: { region: 'eu' },
      },
    },
    // No priority, no actor.
    { id: 'm-e4', type: 'ticket.created', model: { id: 'm-t4', number: 7, state: 'open', subject: 'Hello', label_ids: ['x'] } },
  ];
  const cases: Array<[string, Record<string, unknown> | null, string[]]> = [
    ['none', null, ['m-e1', 'm-e2', 'm-e3', 'm-e4']],
    ['exact', { 'model.priority': 'high' }, ['m-e1']],
    ['issue-example', { 'model.priority': { $in: ['high', 'urgent'] }, actor_type: 'user' }, ['m-e1', 'm-e3']],
    ['eq-null', { actor_type: { $eq: null } }, ['m-e4']],
    ['ne', { 'model.priority': { $ne: 'high' } }, ['m-e2', 'm-e3', 'm-e4']],
    ['gt', { 'model.number': { $gt: 10 } }, ['m-e3']],
    ['gte', { 'model.number': { $gte: 10 } }, ['m-e1', 'm-e3']],
    ['lt', { 'model.number': { $lt: 10 } }, ['m-e2', 'm-e4']],
    ['lte', { 'model.number': { $lte: 3 } }, ['m-e2']],
    ['nin', { 'model.priority': { $nin: ['high', 'urgent'] } }, ['m-e2', 'm-e4']],
    ['exists', { 'model.priority': { $exists: true } }, ['m-e1', 'm-e2', 'm-e3']],
    ['not-exists', { 'model.priority': { $exists: false } }, ['m-e4']],
    ['regex', { 'model.subject': { $regex: '^refund', $options: 'i' } }, ['m-e1', 'm-e3']],
    ['size', { 'model.label_ids': { $size: 0 } }, ['m-e2']],
    ['all', { 'model.label_ids': { $all: ['billing'] } }, ['m-e1', 'm-e3']],
    ['elem-match', { 'model.lines': { $elemMatch: { sku: 'a', qty: { $gte: 5 } } } }, ['m-e3']],
    ['not', { 'model.state': { $not: { $in: ['closed', 'hold'] } } }, ['m-e1', 'm-e4']],
    ['and', { $and: [{ type: 'ticket.updated' }, { 'model.custom.region': 'eu' }] }, ['m-e3']],
    ['or', { $or: [{ actor_type: 'system' }, { 'model.number': 42 }] }, ['m-e2', 'm-e3']],
    ['nor', { $nor: [{ actor_type: 'user' }, { 'model.state': 'open' }] }, ['m-e2']],
    ['nested-logic', { $or: [{ $and: [{ actor_type: 'user' }, { 'model.number': { $lt: 20 } }] }, { 'model.label_ids': 'x' }] }, ['m-e1', 'm-e4']],
    ['data-path', { 'data.changes.state.1': 'hold' }, ['m-e2']],
    ['type', { type: { $regex: '\\.created$' } }, ['m-e1', 'm-e4']],
  ];
  const ids = new Map<string, string>();

  beforeAll(async () => {
    for (const [name, filter] of cases) {
      ids.set(name, await subscribe(ctx, { url: `${receiver.url}/matrix/${name}`, event_types: ['ticket.*'], filter }));
    }
    for (const e of events) await publish(e);
    const expected = cases.reduce((n, [, , through]) => n + through.length, 0);
    await receiver.waitFor(expected, 30_000);
  }, 60_000);

  it.each(cases)('%s: delivers exactly the events the filter matches', async (name, filter, through) => {
    expect(arrived(`/matrix/${name}`)).toEqual(through);
    const shown = await getSubscription(ids.get(name)!);
    expect(shown.filter).toEqual(filter);
    // The counter follows the fan-out by a moment (one statement per pod, after the transaction).
    await eventually(async () => expect((await getSubscription(ids.get(name)!)).filtered_count).toBe(events.length - through.length));
  });

  it('creates no delivery for a filtered-out event', async () => {
    const rows = await ctx.db.query<{ event_id: string }>(`SELECT event_id FROM deliveries WHERE subscription_id = $1 ORDER BY event_id`, [ids.get('exact')]);
    expect(rows.rows.map((r) => r.event_id)).toEqual(['m-e1']);
  });

  it('lists each subscription with its filter and count', async () => {
    const list = await request<{ items: SubscriptionBody[] }>('GET', '/v1/subscriptions?limit=100');
    const listed = list.body.items.find((s) => s.id === ids.get('issue-example'))!;
    expect(listed).toMatchObject({ filter: { 'model.priority': { $in: ['high', 'urgent'] }, actor_type: 'user' }, filtered_count: 2 });
  });
});

describe('changing a filter', () => {
  it('PATCH takes effect for the next events, and null removes the filter', async () => {
    const path = '/patched';
    const id = await subscribe(ctx, { url: `${receiver.url}${path}`, event_types: ['ticket.created'], filter: { 'model.priority': 'high' } });
    await publish({ id: 'p-1', type: 'ticket.created', model: { id: 'p-t1', priority: 'high' } });
    await eventually(() => expect(arrived(path)).toEqual(['p-1']));

    const patched = await request<SubscriptionBody>('PATCH', `/v1/subscriptions/${id}`, { filter: { 'model.priority': { $in: ['low'] } } });
    expect(patched.status).toBe(200);
    expect(patched.body.filter).toEqual({ 'model.priority': { $in: ['low'] } });
    await publish({ id: 'p-2', type: 'ticket.created', model: { id: 'p-t2', priority: 'high' } });
    await publish({ id: 'p-3', type: 'ticket.created', model: { id: 'p-t3', priority: 'low' } });
    await eventually(() => expect(arrived(path)).toEqual(['p-1', 'p-3']));
    await eventually(async () => expect((await getSubscription(id)).filtered_count).toBe(1));

    // A PATCH of something else keeps the filter.
    expect((await request<SubscriptionBody>('PATCH', `/v1/subscriptions/${id}`, { description: 'low only' })).body.filter).toEqual({
      'model.priority': { $in: ['low'] },
    });

    const cleared = await request<SubscriptionBody>('PATCH', `/v1/subscriptions/${id}`, { filter: null });
    expect(cleared.body).toMatchObject({ filter: null, filtered_count: 1 });
    await publish({ id: 'p-4', type: 'ticket.created', model: { id: 'p-t4', priority: 'high' } });
    await eventually(() => expect(arrived(path)).toEqual(['p-1', 'p-3', 'p-4']));
    expect((await getSubscription(id)).filtered_count).toBe(1);
  });

  it('a thin subscription is filtered on the full envelope', async () => {
    const path = '/thin';
    await subscribe(ctx, { url: `${receiver.url}${path}`, event_types: ['ticket.created'], format: 'thin', filter: { 'model.priority': 'urgent' } });
    await publish({ id: 'thin-1', type: 'ticket.created', model: { id: 'thin-t1', priority: 'normal' } });
    await publish({ id: 'thin-2', type: 'ticket.created', model: { id: 'thin-t2', priority: 'urgent' } });
    await eventually(() => expect(receiver.requests.filter((r) => r.url === path)).toHaveLength(1));
    await sleep(300);
    const got = receiver.requests.filter((r) => r.url === path).map((r) => (r.json() as { data: { resource: string } }).data.resource);
    expect(got).toEqual(['/v0/tickets/thin-t2']);
  });
});

describe('bad filters', () => {
  const base = () => ({ url: `${receiver.url}/refused`, event_types: ['ticket.created'] });

  it('refuses an unknown operator with a 422 invalid-filter problem naming it and where it is', async () => {
    const res = await request<Problem>('POST', '/v1/subscriptions', { ...base(), filter: { 'model.priority': { $inn: ['high'] } } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: 'https://hookhub.dev/problems/invalid-filter',
      status: 422,
      errors: [{ pointer: '#/filter/model.priority/$inn', detail: expect.stringMatching(/^unknown operator \$inn; the operators are \$and, /) }],
    });
    expect(res.body.detail).toContain('filter/model.priority/$inn: unknown operator $inn');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['$where', { $where: 'sleep(1000)' }, '#/filter/$where', '$where is not allowed: a filter cannot run code'],
    ['$function', { 'model.x': { $function: { body: 'return 1' } } }, '#/filter/model.x/$function', '$function is not allowed: a filter cannot run code'],
    ['$expr', { $expr: { $gt: ['$a', 1] } }, '#/filter/$expr', '$expr is not supported'],
    ['a back-reference in $regex', { 'model.subject': { $regex: '(a)\\1' } }, '#/filter/model.subject/$regex', '$regex is not an RE2 pattern'],
    ['$or under a field', { 'model.state': { $or: [{ a: 1 }] } }, '#/filter/model.state/$or', '$or combines whole conditions'],
  ])('refuses %s', async (_name, filter, pointer, detail) => {
    const res = await request<Problem>('POST', '/v1/subscriptions', { ...base(), filter });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ pointer, detail: expect.stringContaining(detail) }]);
  });

  it('refuses a filter over 4 KiB and one nested too deep', async () => {
    const big = await request<Problem>('POST', '/v1/subscriptions', {
      ...base(),
      filter: { 'model.id': { $in: Array.from({ length: 500 }, (_, i) => `ticket-${i}`) } },
    });
    expect(big.status).toBe(422);
    expect(big.body.errors[0]).toEqual({ pointer: '#/filter', detail: expect.stringContaining('at most 4096') });
    const deep = await request<Problem>('POST', '/v1/subscriptions', { ...base(), filter: { $and: [{ $or: [{ $nor: [{ a: { $in: [1] } }] }] }] } });
    expect(deep.status).toBe(422);
    expect(deep.body.errors[0].detail).toBe('filter nests objects and arrays more than 8 levels deep');
  });

  it('refuses a filter that is not an object as a validation error of the body', async () => {
    const res = await request<Problem>('POST', '/v1/subscriptions', { ...base(), filter: ['model.priority', 'high'] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ pointer: '#/filter', detail: expect.stringContaining('filter must be an object') }]);
  });

  it('a refused PATCH leaves the stored filter as it was', async () => {
    const id = await subscribe(ctx, { ...base(), filter: { actor_type: 'user' } });
    const res = await request<Problem>('PATCH', `/v1/subscriptions/${id}`, { filter: { actor_type: { $where: 'true' } } });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].pointer).toBe('#/filter/actor_type/$where');
    expect((await getSubscription(id)).filter).toEqual({ actor_type: 'user' });
  });
});

describe('replay', () => {
  it('applies the filter to the events it sends again', async () => {
    // The matrix's events are in the log: a new subscription with a filter replays only those it matches.
    const path = '/replayed';
    const id = await subscribe(ctx, {
      url: `${receiver.url}${path}`,
      event_types: ['ticket.updated'],
      filter: { 'model.priority': { $in: ['urgent', 'low'] }, actor_type: 'user' },
    });
    const res = await request<{ queued: number }>('POST', `/v1/subscriptions/${id}/replay`, { since: startedAt.toISOString() });
    expect(res.status).toBe(202);
    expect(res.body.queued).toBe(1);
    await eventually(() => expect(arrived(path)).toEqual(['m-e3']), 15_000);
  });
});

describe('metrics', () => {
  it("the dispatcher's counter is the total of every subscription's filtered_count, with no per-subscription series", async () => {
    const port = (ctx.hub.dispatchers[0].getHttpServer().address() as AddressInfo).port;
    await eventually(async () => {
      const total = await ctx.db.query<{ n: string }>(`SELECT sum(filtered_count)::text AS n FROM subscriptions WHERE tenant_id = $1`, [ctx.tenant.tenantId]);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^hookhub_events_filtered_total ${total.rows[0].n}$`, 'm'));
    });
  });
});
