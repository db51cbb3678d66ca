import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

interface BatchItem {
  index: number;
  id: string | null;
  status: string;
  schema_version?: number;
  problem?: { type: string; status: number; errors?: Array<{ pointer: string; detail: string }> };
}
interface BatchReceipt {
  accepted: number;
  duplicates: number;
  failed: number;
  items: BatchItem[];
}

const ticket = (id: string, modelId = `t-${id}`) => ({ id, type: 'ticket.created', model_id: modelId, model: { id: modelId, state: 'open' } });

/**
 * POST /v1/events/batch: each event checked and stored on its own, the
 * answer saying what became of each; a half-valid batch stores the valid
 * half; nothing of a refused event is stored.
 */
describe('publishing a batch of events', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let receiver: TestReceiver;
  let key: string;
  let readerKey: string;

  const batch = (events: unknown, token = key) => hub.api.request<BatchReceipt>('POST', '/v1/events/batch', { token, body: { events } });
  const deliveredIds = (): string[] => receiver.requests.map((r) => (r.json() as { id: string }).id);
  const stored = async (id: string): Promise<boolean> => (await hub.api.request('GET', `/v1/events/${id}`, { token: key })).status === 200;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env, { LOG_LEVEL: 'error' });
    receiver = await new TestReceiver().start();
    const tenant = await hub.api.createTenant('Batch');
    key = tenant.adminKey;
    readerKey = (await hub.api.createKey(tenant.tenantId, ['reader'])).key;
    const sub = await hub.api.request('POST', '/v1/subscriptions', { token: key, body: { url: receiver.url, event_types: ['ticket.*'] } });
    expect(sub.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  it('stores a batch of 500 and delivers every event once', async () => {
    const events = Array.from({ length: 500 }, (_, i) => ticket(`bulk-${i}`));
    const res = await batch(events);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 500, duplicates: 0, failed: 0 });
    expect(res.body.items.map((i) => [i.index, i.id, i.status, i.schema_version])).toEqual(events.map((e, i) => [i, e.id, 'accepted', 1]));
    await eventually(() => expect(new Set(deliveredIds().filter((id) => id.startsWith('bulk-'))).size).toBe(500), 30_000);
    expect(deliveredIds().filter((id) => id.startsWith('bulk-'))).toHaveLength(500);
  });

  it('stores the valid half of a half-valid batch and says exactly which failed and why (207)', async () => {
    await batch([ticket('before-1')]);
    const res = await batch([
      ticket('half-ok-1'),
      { ...ticket('half-bad-schema'), model: { id: 't-half-bad-schema', state: 'exploded' } },
      ticket('before-1'),
      'not an event',
      { type: 'order.unknown', id: 'half-unknown-type', model_id: 'x' },
      { ...ticket('half-extra'), priority: 'high' },
      { type: 'ticket.created', model_id: 't-generated', model: { id: 't-generated' } },
    ]);
    expect(res.status).toBe(207);
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 1, failed: 4 });
    const [ok, badSchema, duplicate, notObject, unknownType, extra, generated] = res.body.items;
    expect(ok).toMatchObject({ index: 0, id: 'half-ok-1', status: 'accepted' });
    expect(badSchema).toMatchObject({ index: 1, id: 'half-bad-schema', status: 'invalid', problem: { status: 422, errors: [{ pointer: '#/model/state' }] } });
    expect(badSchema.problem?.type).toContain('invalid-event');
    expect(duplicate).toMatchObject({ index: 2, id: 'before-1', status: 'duplicate' });
    expect(notObject).toMatchObject({ index: 3, id: null, status: 'invalid', problem: { status: 400 } });
    expect(unknownType).toMatchObject({ index: 4, status: 'invalid', problem: { status: 422 } });
    expect(unknownType.problem?.type).toContain('unknown-event-type');
    expect(extra).toMatchObject({ index: 5, status: 'invalid', problem: { status: 400, errors: [{ pointer: '#/priority' }] } });
    expect(generated).toMatchObject({ index: 6, status: 'accepted', id: expect.any(String) });

    await eventually(() => expect(deliveredIds()).toEqual(expect.arrayContaining(['half-ok-1', generated.id])));
    for (const id of ['half-bad-schema', 'half-unknown-type', 'half-extra']) expect(await stored(id)).toBe(false);
    expect(deliveredIds().filter((id) => id === 'before-1')).toHaveLength(1);
  });

  it('a batch where every event is invalid is a 422 problem listing each, and stores nothing', async () => {
    const res = await batch([{ ...ticket('all-bad-1'), model: null }, { type: 'ticket.created' }]);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({
      type: expect.stringContaining('invalid-batch'),
      items: [
        { index: 0, status: 'invalid' },
        { index: 1, status: 'invalid' },
      ],
    });
    expect(await stored('all-bad-1')).toBe(false);
  });

  it('one id twice in a batch is stored once', async () => {
    const res = await batch([ticket('twice'), ticket('twice')]);
    expect(res.status).toBe(202);
    expect(res.body.items.map((i) => i.status).sort()).toEqual(['accepted', 'duplicate']);
    await eventually(() => expect(deliveredIds()).toContain('twice'));
  });

  it('refuses batches that are empty, too long, too large or not a list, and callers without the publisher role', async () => {
    expect((await batch([])).status).toBe(400);
    expect((await batch('events')).status).toBe(400);
    const tooMany = await batch(Array.from({ length: 1_001 }, (_, i) => ticket(`many-${i}`)));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ errors: [{ pointer: '#/events' }] });
    expect(await stored('many-0')).toBe(false);
    const big = { ...ticket('huge'), data: { blob: 'x'.repeat(6 * 1024 * 1024) } };
    expect((await batch([big])).status).toBe(413);
    // The larger limit is the batch route's only.
    const single = await hub.api.request('POST', '/v1/events', { token: key, body: { ...ticket('big-single'), data: { blob: 'x'.repeat(300 * 1024) } } });
    expect(single.status).toBe(413);
    expect((await batch([ticket('by-reader')], readerKey)).status).toBe(403);
    expect(await stored('by-reader')).toBe(false);
  });
});
