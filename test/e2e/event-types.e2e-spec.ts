import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { connect, headers as natsHeaders, NatsConnection } from 'nats';
import { SubjectNames, ThinNotification } from '@hookhub/contracts';
import { buildSubscriptionsApp } from '../../apps/subscriptions/src/build-subscriptions-app';
import { eventually } from '../support/eventually';
import { ApiClient, RunningHub, startHub } from '../support/hub';
import { ReceivedRequest, TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const orderModelV1 = {
  type: 'object',
  required: ['id', 'status', 'total_cents'],
  properties: { id: { type: 'string' }, status: { enum: ['open', 'paid'] }, total_cents: { type: 'integer', minimum: 0 } },
};
/** Version 2 changes `status` from a word to an object with a code. */
const orderModelV2 = {
  type: 'object',
  required: ['id', 'status', 'total_cents'],
  properties: {
    id: { type: 'string' },
    status: { type: 'object', required: ['code'], properties: { code: { enum: ['open', 'paid', 'refunded'] } } },
    total_cents: { type: 'integer', minimum: 0 },
  },
};
const orderV1 = (id: string, status = 'open') => ({ id, status, total_cents: 4200 });
const orderV2 = (id: string, code = 'open') => ({ id, status: { code }, total_cents: 4200 });

interface TypeView {
  type: string;
  scope: string;
  model_type: string;
  resource_path: string;
  topic: string;
  latest_version: number;
  deprecated: boolean;
  versions: Array<{ version: number; deprecated: boolean; example: Record<string, unknown>; thin_example: ThinNotification }>;
}

/**
 * Event types of a tenant's own and the platform's: defined by API, published,
 * delivered full and thin, their resources served and deleted, new schema
 * versions next to old ones, subscriptions that take only some versions.
 */
describe('event types defined through the API', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let secondPod: INestApplication;
  let secondApi: ApiClient;
  let nc: NatsConnection;
  let receiver: TestReceiver;
  let tenantId: string;
  let adminKey: string;
  let otherTenant: { tenantId: string; adminKey: string };

  const api = (method: string, path: string, body?: unknown, token = adminKey) => hub.api.request(method, path, { token, body });
  const publish = async (body: Record<string, unknown>, token = adminKey, client = hub.api) => {
    const res = await client.request<{ id: string; schema_version: number; deprecated: boolean }>('POST', '/v1/events', { token, body });
    if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${res.text}`);
    return res.body;
  };
  const subscribe = async (path: string, body: Record<string, unknown>, token = adminKey): Promise<string> => {
    const res = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', { token, body: { url: `${receiver.url}${path}`, ...body } });
    if (res.status !== 201) throw new Error(`subscription failed: ${res.status} ${res.text}`);
    return res.body.id;
  };
  const at = (path: string): ReceivedRequest[] => receiver.requests.filter((r) => r.url === path);
  const bodiesAt = <T>(path: string, modelId: string): Array<{ body: T; version: string }> =>
    at(path)
      .map((r) => ({
        body: r.json() as T & { model_id?: string; data?: { params?: { id?: string } } },
        version: String(r.headers['x-webhook-schema-version']),
      }))
      .filter((b) => b.body.model_id === modelId || b.body.data?.params?.id === modelId);

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env, { LOG_LEVEL: 'error' });
    secondPod = await buildSubscriptionsApp(env.config({ LOG_LEVEL: 'error' }));
    await secondPod.listen(0, '127.0.0.1');
    secondApi = new ApiClient(`http://127.0.0.1:${(secondPod.getHttpServer().address() as AddressInfo).port}`, env.adminToken);
    nc = await connect({ servers: env.natsUrl });
    receiver = await new TestReceiver().start();
    ({ tenantId, adminKey } = await hub.api.createTenant('Shop'));
    otherTenant = await hub.api.createTenant('Other');

    const created = await api('POST', '/v1/event-types', {
      name: 'order.created',
      description: 'An order was placed.',
      model_type: 'order',
      resource_path: '/v0/orders/{id}',
      topic: 'shop_order',
      model_schema: orderModelV1,
      example: { model: orderV1('ord_example') },
    });
    expect(created.status).toBe(201);
    for (const name of ['order.updated', 'order.deleted']) {
      const res = await api('POST', '/v1/event-types', {
        name,
        description: `The order ${name.split('.')[1]}.`,
        model_type: 'order',
        model_schema: orderModelV1,
        example: name === 'order.deleted' ? { model: null, model_id: 'ord_example' } : { model: orderV1('ord_example', 'paid') },
      });
      expect(res.status).toBe(201);
    }
    await subscribe('/full', { event_types: ['order.*'] });
    await subscribe('/thin', { event_types: ['order.*'], format: 'thin' });
    await subscribe('/everything', { event_types: ['*'] });
  }, 60_000);

  afterAll(async () => {
    await secondPod?.close();
    await hub?.close();
    await receiver?.stop();
    await nc?.close();
    await env?.teardown();
  });

  it('lists a tenant’s types to that tenant next to the built-in ones, and to no one else', async () => {
    const own = await api('GET', '/v1/event-types');
    const types = (own.body as { items: TypeView[] }).items;
    const order = types.find((t) => t.type === 'order.created')!;
    expect(order).toMatchObject({ scope: 'tenant', model_type: 'order', resource_path: '/v0/orders/{id}', topic: 'shop_order', latest_version: 1 });
    expect(order.versions[0].thin_example).toEqual({
      data: { status: 'CREATION', params: { id: 'ord_example' }, resource: '/v0/orders/ord_example' },
      tenant_id: expect.any(String),
      topic: 'shop_order',
    });
    expect(types.find((t) => t.type === 'ticket.created')).toMatchObject({ scope: 'builtin', resource_path: '/v0/tickets/{id}', latest_version: 1 });
    // The sibling types took the model type's path and topic.
    expect(types.find((t) => t.type === 'order.deleted')).toMatchObject({ resource_path: '/v0/orders/{id}', topic: 'shop_order' });

    const anonymous = (await hub.api.request<{ items: TypeView[] }>('GET', '/v1/event-types')).body.items.map((t) => t.type);
    const other = (await api('GET', '/v1/event-types', undefined, otherTenant.adminKey)).body as { items: TypeView[] };
    expect(anonymous).toContain('ticket.created');
    expect(anonymous).not.toContain('order.created');
    expect(other.items.map((t) => t.type)).not.toContain('order.created');
    expect((await api('GET', '/v1/event-types/order.created', undefined, otherTenant.adminKey)).status).toBe(404);
    expect((await hub.api.request('GET', '/v1/event-types', { token: 'hh_wrong' })).status).toBe(401);
  });

  it('publishes the example as it is, and delivers it full and thin with its schema version', async () => {
    const example = ((await api('GET', '/v1/event-types/order.created')).body as unknown as TypeView).versions[0].example;
    const receipt = await publish({ ...example, id: 'evt-example-1' });
    expect(receipt).toEqual({ id: 'evt-example-1', duplicate: false, schema_version: 1, deprecated: false });
    await eventually(() => expect(bodiesAt('/full', 'ord_example')).toHaveLength(1));
    const full = at('/full').find((r) => (r.json() as { id: string }).id === 'evt-example-1')!;
    expect(full.headers['x-webhook-schema-version']).toBe('1');
    expect(full.headers['x-webhook-event']).toBe('order.created');
    expect(full.json()).toMatchObject({
      type: 'order.created',
      model_type: 'order',
      model_id: 'ord_example',
      account_id: tenantId,
      model: orderV1('ord_example'),
    });
    // The version travels beside the envelope, never in it: the body has exactly the seeds' fields.
    expect(Object.keys(full.json() as object)).toEqual([
      'id',
      'account_id',
      'account_url',
      'created_at',
      'type',
      'data',
      'actor_type',
      'actor_id',
      'actor_name',
      'model_type',
      'model_id',
      'model',
    ]);
  });

  it('serves the resource at its path, announces CREATION, UPDATE and DELETION, and answers 410 once deleted', async () => {
    await publish({ type: 'order.created', model_id: 'ord_1', model: orderV1('ord_1') });
    await eventually(() => expect(bodiesAt('/thin', 'ord_1')).toHaveLength(1));
    expect((await api('GET', '/v0/orders/ord_1')).body).toEqual(orderV1('ord_1'));

    await publish({ type: 'order.updated', model_id: 'ord_1', model: orderV1('ord_1', 'paid') });
    await eventually(() => expect(bodiesAt('/thin', 'ord_1')).toHaveLength(2));
    expect((await api('GET', '/v0/orders/ord_1')).body).toEqual(orderV1('ord_1', 'paid'));

    await publish({ type: 'order.deleted', model_id: 'ord_1', model: null });
    await eventually(() => expect(bodiesAt('/thin', 'ord_1')).toHaveLength(3));
    const thin = bodiesAt<ThinNotification>('/thin', 'ord_1').map((b) => b.body);
    expect(thin.map((t) => t.data.status)).toEqual(['CREATION', 'UPDATE', 'DELETION']);
    expect(thin[0]).toEqual({ data: { status: 'CREATION', params: { id: 'ord_1' }, resource: '/v0/orders/ord_1' }, tenant_id: tenantId, topic: 'shop_order' });
    const gone = await api('GET', '/v0/orders/ord_1');
    expect(gone.status).toBe(410);
    expect(gone.headers.get('content-type')).toContain('application/problem+json');

    // Not the other tenant's, and not a path no type declares.
    expect((await api('GET', '/v0/orders/ord_example', undefined, otherTenant.adminKey)).status).toBe(404);
    expect((await api('GET', '/v0/invoices/ord_example')).status).toBe(404);
    // Built-in resources keep their own routes.
    expect((await api('GET', '/v0/tickets/nope')).status).toBe(404);
  });

  it('a new version with a changed schema: the latest is the default, the old one is still accepted when named, and a subscription can take only the old one', async () => {
    const oldOnly = await subscribe('/v1-only', { event_types: ['order.created'], schema_versions: { 'order.created': [1] } });
    const v2 = await api('POST', '/v1/event-types/order.created/versions', { model_schema: orderModelV2, example: { model: orderV2('ord_example') } });
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ latest_version: 2, versions: [{ version: 1 }, { version: 2 }] });

    expect(await publish({ type: 'order.created', model_id: 'ord_2', model: orderV2('ord_2') })).toMatchObject({ schema_version: 2 });
    expect(await publish({ type: 'order.created', schema_version: 1, model_id: 'ord_3', model: orderV1('ord_3') })).toMatchObject({ schema_version: 1 });
    // An old-shaped event without a version is checked against the latest, and refused.
    const refused = await api('POST', '/v1/events', { type: 'order.created', model_id: 'ord_4', model: orderV1('ord_4') });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      type: expect.stringContaining('invalid-event'),
      errors: expect.arrayContaining([expect.objectContaining({ pointer: '#/model/status' })]),
    });
    const noSuchVersion = await api('POST', '/v1/events', { type: 'order.created', schema_version: 9, model_id: 'ord_4', model: orderV1('ord_4') });
    expect(noSuchVersion.status).toBe(422);
    expect(noSuchVersion.body).toMatchObject({ type: expect.stringContaining('unknown-schema-version') });

    await eventually(() => expect([...bodiesAt('/full', 'ord_2'), ...bodiesAt('/full', 'ord_3')]).toHaveLength(2));
    expect(bodiesAt('/full', 'ord_2').map((b) => b.version)).toEqual(['2']);
    expect(bodiesAt('/full', 'ord_3').map((b) => b.version)).toEqual(['1']);
    await eventually(() => expect(bodiesAt('/v1-only', 'ord_3')).toHaveLength(1));
    // The v2 event reached the other subscriptions (seen above) before the v1 one was published: had it matched, it would be here.
    expect(bodiesAt('/v1-only', 'ord_2')).toHaveLength(0);
    const sub = await api('GET', `/v1/subscriptions/${oldOnly}`);
    expect(sub.body).toMatchObject({ schema_versions: { 'order.created': [1] } });

    const unknownVersion = await api('POST', '/v1/subscriptions', {
      url: `${receiver.url}/x`,
      event_types: ['order.*'],
      schema_versions: { 'order.created': [7] },
    });
    expect(unknownVersion.status).toBe(422);
    expect(unknownVersion.body).toMatchObject({
      errors: [{ pointer: '#/schema_versions/order.created', detail: expect.stringContaining('no schema version 7') }],
    });
  });

  it('deprecating a version keeps it working and says so on publish', async () => {
    const res = await api('PATCH', '/v1/event-types/order.created/versions/1', { deprecated: true });
    expect(res.status).toBe(200);
    expect((await api('PATCH', '/v1/event-types/order.created/versions/9', { deprecated: true })).status).toBe(404);
    expect(await publish({ type: 'order.created', schema_version: 1, model_id: 'ord_5', model: orderV1('ord_5') })).toMatchObject({ deprecated: true });
    expect(await publish({ type: 'order.created', model_id: 'ord_6', model: orderV2('ord_6') })).toMatchObject({ deprecated: false });
  });

  it('refuses an invalid schema, an example that breaks it, a built-in group and a name taken, each with a problem naming the error', async () => {
    const base = { description: 'x', model_type: 'thing', example: { model: { id: 't1' } } };
    const badSchema = await api('POST', '/v1/event-types', {
      ...base,
      name: 'thing.created',
      model_schema: { type: 'object', properties: { id: { type: 'strin' } } },
    });
    expect(badSchema.status).toBe(422);
    expect(badSchema.body).toMatchObject({
      type: expect.stringContaining('invalid-schema'),
      errors: [{ pointer: '#/model_schema/properties/id/type', detail: expect.stringContaining('must be one of: "array", "boolean", "integer"') }],
    });

    const badRef = await api('POST', '/v1/event-types', { ...base, name: 'thing.created', model_schema: { $ref: '#/$defs/nowhere' } });
    expect(badRef.status).toBe(422);
    expect(badRef.body).toMatchObject({
      type: expect.stringContaining('invalid-schema'),
      errors: [{ pointer: '#/model_schema', detail: expect.stringContaining('nowhere') }],
    });

    const badExample = await api('POST', '/v1/event-types', { ...base, name: 'thing.created', model_schema: { type: 'object', required: ['id', 'size'] } });
    expect(badExample.status).toBe(422);
    expect(badExample.body).toMatchObject({
      type: expect.stringContaining('invalid-example'),
      errors: [{ pointer: '#/example/model/size', detail: 'size is required' }],
    });

    const reserved = await api('POST', '/v1/event-types', { ...base, name: 'ticket.escalated', model_schema: { type: 'object' } });
    expect(reserved.status).toBe(422);
    expect(reserved.body).toMatchObject({ type: expect.stringContaining('reserved-event-type') });

    const taken = await api('POST', '/v1/event-types', { ...base, name: 'order.created', model_type: 'order', model_schema: { type: 'object' } });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ type: expect.stringContaining('event-type-exists') });

    const otherPath = await api('POST', '/v1/event-types', {
      ...base,
      name: 'order.shipped',
      model_type: 'order',
      resource_path: '/v0/shipments/{id}',
      model_schema: { type: 'object' },
    });
    expect(otherPath.status).toBe(409);
    expect(otherPath.body).toMatchObject({ type: expect.stringContaining('model-type-conflict') });

    expect((await api('POST', '/v1/event-types/ticket.created/versions', { model_schema: { type: 'object' }, example: { model: { id: 'x' } } })).status).toBe(
      403,
    );
    // Nothing of the refused types was stored.
    const names = ((await api('GET', '/v1/event-types')).body as { items: TypeView[] }).items.map((t) => t.type);
    expect(names).not.toContain('thing.created');
    expect(names).not.toContain('order.shipped');
  });

  it('subscriptions see custom groups like built-in ones, and `*` takes custom types too', async () => {
    expect((await api('POST', '/v1/subscriptions', { url: `${receiver.url}/x`, event_types: ['nothing.*'] })).status).toBe(422);
    expect((await api('POST', '/v1/subscriptions', { url: `${receiver.url}/x`, event_types: ['order.*'] }, otherTenant.adminKey)).status).toBe(422);
    await eventually(() => expect(bodiesAt('/everything', 'ord_example').length).toBeGreaterThan(0));
    expect((await api('GET', '/v1/subscriptions?event_type=order.created')).body).toMatchObject({
      items: expect.arrayContaining([expect.objectContaining({ event_types: ['order.*'] })]),
    });
  });

  it('a platform type is defined with the admin token, and every tenant publishes and receives it', async () => {
    const created = await hub.api.request('POST', '/v1/platform/event-types', {
      token: env.adminToken,
      body: {
        name: 'invoice.paid',
        description: 'An invoice was paid.',
        model_type: 'invoice',
        model_schema: { type: 'object', required: ['id'] },
        example: { model: { id: 'inv_1' } },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ scope: 'platform', resource_path: '/v0/invoice/{id}', topic: 'invoice' });
    // The platform cannot take a name a tenant uses: that tenant would see two.
    const shadow = await hub.api.request('POST', '/v1/platform/event-types', {
      token: env.adminToken,
      body: { name: 'order.created', description: 'x', model_type: 'order', model_schema: { type: 'object' }, example: { model: { id: 'o' } } },
    });
    expect(shadow.status).toBe(409);
    // A tenant key cannot define platform types, nor change them.
    expect((await hub.api.request('POST', '/v1/platform/event-types', { token: adminKey, body: {} })).status).toBe(401);
    expect((await api('PATCH', '/v1/event-types/invoice.paid', { deprecated: true })).status).toBe(403);

    await subscribe('/invoices-other', { event_types: ['invoice.*'] }, otherTenant.adminKey);
    await publish({ type: 'invoice.paid', model_id: 'inv_9', model: { id: 'inv_9' } }, otherTenant.adminKey);
    await publish({ type: 'invoice.paid', model_id: 'inv_8', model: { id: 'inv_8' } });
    await eventually(() => expect(bodiesAt('/invoices-other', 'inv_9')).toHaveLength(1));
    await eventually(() => expect(bodiesAt('/everything', 'inv_8')).toHaveLength(1));
    expect(bodiesAt('/invoices-other', 'inv_8')).toHaveLength(0);
    expect((await api('GET', '/v0/invoice/inv_9', undefined, otherTenant.adminKey)).body).toEqual({ id: 'inv_9' });
  });

  it('a type created on one pod is usable on another at once', async () => {
    const created = await secondApi.request('POST', '/v1/event-types', {
      token: adminKey,
      body: {
        name: 'refund.issued',
        description: 'A refund.',
        model_type: 'refund',
        model_schema: { type: 'object', required: ['id'] },
        example: { model: { id: 'r1' } },
      },
    });
    expect(created.status).toBe(201);
    // The first pod has not refreshed yet (every 2 s): its lookup of the unknown type reads the registry again.
    const receipt = await publish({ type: 'refund.issued', model_id: 'r2', model: { id: 'r2' } });
    expect(receipt.schema_version).toBe(1);
    await subscribe('/refunds', { event_types: ['refund.issued'] });
  });

  it('a trusted service publishing straight to JetStream names the version in a header', async () => {
    const subjects = new SubjectNames(env.prefix);
    const h = natsHeaders();
    h.set('Hookhub-Schema-Version', '1');
    const envelope = {
      id: 'evt-direct-1',
      account_id: tenantId,
      account_url: '',
      created_at: new Date().toISOString(),
      type: 'order.created',
      data: {},
      actor_type: null,
      actor_id: null,
      actor_name: null,
      model_type: 'order',
      model_id: 'ord_direct',
      model: orderV1('ord_direct'),
    };
    await nc.jetstream().publish(subjects.event(tenantId, 'order.created'), JSON.stringify(envelope), {
      msgID: SubjectNames.eventMsgId(tenantId, envelope.id),
      headers: h,
    });
    await eventually(() => expect(bodiesAt('/v1-only', 'ord_direct')).toHaveLength(1));
    expect(bodiesAt('/full', 'ord_direct').map((b) => b.version)).toEqual(['1']);
  });
});
