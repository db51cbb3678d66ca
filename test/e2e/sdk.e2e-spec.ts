import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, type NatsConnection } from 'nats';
import {
  ENVELOPE_FIELDS,
  HookhubClient,
  HookhubProblemError,
  HookhubValidationError,
  serializeEnvelope,
  verifyWebhook,
  WebhookVerificationError,
  type EventEnvelope,
  type SignatureScheme,
} from '../../libs/sdk/src';
import { HookhubJetStreamPublisher, SCHEMA_VERSION_HEADER } from '../../libs/sdk/src/jetstream';
import { HookhubModule, HookhubPublisher } from '../../libs/sdk/src/nestjs';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { ReceivedRequest, TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const SCHEMES: SignatureScheme[] = ['sha256', 'enchant', 'standard-webhooks'];
const whsec = (fill: number): string => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;
const secretFor: Record<SignatureScheme, [string, string]> = {
  sha256: ['sdk-sha256-secret-first-0001', 'sdk-sha256-secret-second-002'],
  enchant: ['sdk-enchant-secret-first-001', 'sdk-enchant-secret-second-02'],
  'standard-webhooks': [whsec(1), whsec(2)],
};

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.code;
    throw err;
  }
  return 'verified';
}

/**
 * The SDK against the real hub: its typed client, webhook verification of
 * real deliveries (each scheme, during a secret rotation too), the direct
 * JetStream publisher and the NestJS module. The SDK is imported from its
 * source here; test/e2e/sdk-example.e2e-spec.ts uses its packed tarball.
 */
describe('@hookhub/sdk against the hub', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let receiver: TestReceiver;
  let nc: NatsConnection;
  let tenantId: string;
  let admin: HookhubClient;
  let publisherKey: string;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    receiver = await new TestReceiver().start();
    nc = await connect({ servers: env.natsUrl.split(',') });
    const platform = new HookhubClient({ baseUrl: hub.api.baseUrl, apiKey: env.adminToken });
    const { data: tenant } = await platform.api.POST('/v1/tenants', { body: { name: 'SDK', account_url: 'https://sdk.example.com' } });
    tenantId = tenant!.id;
    const { data: adminKey } = await platform.api.POST('/v1/tenants/{tenantId}/api-keys', {
      params: { path: { tenantId } },
      body: { name: 'sdk-admin', roles: ['admin'] },
    });
    const { data: pubKey } = await platform.api.POST('/v1/tenants/{tenantId}/api-keys', {
      params: { path: { tenantId } },
      body: { name: 'sdk-pub', roles: ['publisher'] },
    });
    admin = new HookhubClient({ baseUrl: hub.api.baseUrl, apiKey: adminKey!.key });
    publisherKey = pubKey!.key;
  });

  afterAll(async () => {
    await nc?.close();
    await hub?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  /** The recorded envelope of an event, once the event log has it. */
  async function recorded(id: string): Promise<Record<string, unknown>> {
    let event: Record<string, unknown> | undefined;
    await eventually(async () => {
      const res = await hub.api.request<Record<string, unknown>>('GET', `/v1/events/${id}`, { token: publisherKey });
      expect(res.status).toBe(200);
      event = res.body;
    });
    return event!;
  }

  /** Deliveries to `path` of the event `id`. */
  const deliveriesOf = (path: string, id: string): ReceivedRequest[] =>
    receiver.requests.filter((r) => r.url === path && (r.json() as { id?: string }).id === id);

  /** The one delivery to `path` of the event `id`, once it arrived. */
  async function deliveryOf(path: string, id: string): Promise<ReceivedRequest> {
    let found: ReceivedRequest[] = [];
    await eventually(() => {
      found = deliveriesOf(path, id);
      expect(found).toHaveLength(1);
    });
    return found[0];
  }

  describe('the API client', () => {
    it('publishes with an id it chose before sending, and a second publish of that id is a duplicate', async () => {
      const client = new HookhubClient({ baseUrl: hub.api.baseUrl, apiKey: publisherKey });
      const receipt = await client.publish({ type: 'ticket.created', model_id: 't-sdk-1', model: { id: 't-sdk-1', state: 'open' } });
      expect(receipt).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), duplicate: false });
      expect(await recorded(receipt.id)).toMatchObject({ id: receipt.id, account_id: tenantId, type: 'ticket.created', model_id: 't-sdk-1' });
      const again = await client.publish({ id: receipt.id, type: 'ticket.created', model_id: 't-sdk-1', model: { id: 't-sdk-1', state: 'open' } });
      expect(again).toMatchObject({ id: receipt.id, duplicate: true });
    });

    it('publishes a batch: each event with its id, the answer saying what became of each', async () => {
      const client = new HookhubClient({ baseUrl: hub.api.baseUrl, apiKey: publisherKey });
      const receipt = await client.publishBatch([
        { type: 'ticket.created', model_id: 't-b1', model: { id: 't-b1' } },
        { id: 'evt-batch-2', type: 'ticket.created', model_id: 't-b2', model: { id: 't-b2' } },
        { type: 'ticket.created', model_id: 't-b3', model: { id: 'not-t-b3' } },
      ]);
      expect(receipt).toMatchObject({ accepted: 2, duplicates: 0, failed: 1 });
      expect(receipt.items.map((i) => [i.index, i.status])).toEqual([
        [0, 'accepted'],
        [1, 'accepted'],
        [2, 'invalid'],
      ]);
      expect(receipt.items[0].id).toMatch(/^[0-9a-f-]{36}$/);
      expect(receipt.items[1].id).toBe('evt-batch-2');
      await recorded(receipt.items[0].id!);
      const none = await client.publishBatch([{ type: 'ticket.created', model_id: 't-b4', model: { id: 'x' } }]).catch((e: unknown) => e);
      expect(none).toBeInstanceOf(HookhubProblemError);
      expect(none).toMatchObject({ status: 422, type: expect.stringMatching(/\/invalid-batch$/) });
    });

    it('throws the hub’s problem documents as HookhubProblemError: invalid event, bad key, unknown resource', async () => {
      const client = new HookhubClient({ baseUrl: hub.api.baseUrl, apiKey: publisherKey });
      const invalid = await client.publish({ type: 'ticket.created', model_id: 't-1', model: { id: 't-2' } }).catch((e: unknown) => e);
      expect(invalid).toBeInstanceOf(HookhubProblemError);
      expect(invalid).toMatchObject({ status: 422, type: expect.stringMatching(/\/invalid-event$/), attempts: 1 });
      expect((invalid as HookhubProblemError).errors).toEqual([{ pointer: '#/model/id', detail: 'must equal model_id' }]);

      const unauthorised = await new HookhubClient({ baseUrl: hub.api.baseUrl, apiKey: 'hh_wrong' })
        .publish({ type: 'ticket.created', model_id: 't' })
        .catch((e: unknown) => e);
      expect(unauthorised).toMatchObject({ status: 401, title: expect.any(String), detail: expect.any(String) });
      expect(unauthorised).toBeInstanceOf(HookhubProblemError);

      const missing = await admin.api
        .GET('/v1/subscriptions/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } })
        .catch((e: unknown) => e);
      expect(missing).toMatchObject({ status: 404, type: expect.stringMatching(/\/not-found$/) });
    });

    it('types the admin API: create a subscription, read it, list deliveries', async () => {
      const { data: created } = await admin.api.POST('/v1/subscriptions', {
        body: { url: `${receiver.url}/typed`, event_types: ['ticket.*'], format: 'thin' },
      });
      expect(created).toMatchObject({ id: expect.any(String), secret: expect.any(String), format: 'thin' });
      const { data: read } = await admin.api.GET('/v1/subscriptions/{id}', { params: { path: { id: created!.id } } });
      expect(read?.url).toBe(`${receiver.url}/typed`);
      const { data: page } = await admin.api.GET('/v1/subscriptions/{id}/deliveries', { params: { path: { id: created!.id }, query: { limit: 5 } } });
      // Arrays parsed by Node's fetch come from outside Jest's sandbox, so `expect.any(Array)` would not match them.
      expect(Array.isArray(page?.items)).toBe(true);
      await admin.api.DELETE('/v1/subscriptions/{id}', { params: { path: { id: created!.id } } });
    });
  });

  describe('verifyWebhook on real deliveries', () => {
    const subscriptionOf: Partial<Record<SignatureScheme, string>> = {};

    beforeAll(async () => {
      for (const scheme of SCHEMES) {
        const { data } = await admin.api.POST('/v1/subscriptions', {
          body: { url: `${receiver.url}/verify/${scheme}`, event_types: ['ticket.updated'], signature_scheme: scheme, secret: secretFor[scheme][0] },
        });
        subscriptionOf[scheme] = data!.id;
      }
    });

    it('verifies each scheme with its secret, and refuses another secret or a changed body', async () => {
      const { id } = await admin.publish({ type: 'ticket.updated', model_id: 't-v', model: { id: 't-v', state: 'hold' } });
      for (const scheme of SCHEMES) {
        const delivery = await deliveryOf(`/verify/${scheme}`, id);
        const [secret, other] = secretFor[scheme];
        const verified = verifyWebhook<{ id: string }>(delivery.raw, delivery.headers, secret, { scheme });
        expect(verified).toMatchObject({ scheme, secretIndex: 0, deliveryId: delivery.headers['x-webhook-delivery'], eventType: 'ticket.updated' });
        expect(verified.payload.id).toBe(id);
        // Without `scheme`, the header present says which it is.
        expect(verifyWebhook(delivery.raw, delivery.headers, secret).scheme).toBe(scheme);
        expect(codeOf(() => verifyWebhook(delivery.raw, delivery.headers, other, { scheme }))).toBe('invalid_signature');
        const changed = Buffer.from(delivery.raw.toString('utf8').replace('"hold"', '"open"'));
        expect(codeOf(() => verifyWebhook(changed, delivery.headers, secret, { scheme }))).toBe('invalid_signature');
        if (scheme === 'standard-webhooks') {
          expect(verified.timestamp).toBe(Number(delivery.headers['webhook-timestamp']));
          expect(codeOf(() => verifyWebhook(delivery.raw, delivery.headers, secret, { scheme, now: Date.now() + 10 * 60_000 }))).toBe('timestamp_too_old');
        }
      }
    });

    it('verifies during a secret rotation with the old secret, the new one, or both held', async () => {
      for (const scheme of SCHEMES) {
        const { data } = await admin.api.POST('/v1/subscriptions/{id}/rotate-secret', {
          params: { path: { id: subscriptionOf[scheme]! } },
          body: { secret: secretFor[scheme][1] },
        });
        expect(data?.secret).toBe(secretFor[scheme][1]);
      }
      const { id } = await admin.publish({ type: 'ticket.updated', model_id: 't-r', model: { id: 't-r', state: 'closed' } });
      for (const scheme of SCHEMES) {
        const delivery = await deliveryOf(`/verify/${scheme}`, id);
        const [previous, next] = secretFor[scheme];
        const header = String(
          delivery.headers[{ sha256: 'x-webhook-signature', enchant: 'enchant-signature', 'standard-webhooks': 'webhook-signature' }[scheme]],
        );
        // Two signatures, the new secret's first.
        expect(header.split(scheme === 'standard-webhooks' ? ' ' : ',')).toHaveLength(2);
        expect(verifyWebhook(delivery.raw, delivery.headers, previous, { scheme }).secretIndex).toBe(0);
        expect(verifyWebhook(delivery.raw, delivery.headers, next, { scheme }).secretIndex).toBe(0);
        expect(verifyWebhook(delivery.raw, delivery.headers, [next, previous], { scheme }).secretIndex).toBe(0);
        const stranger = scheme === 'standard-webhooks' ? whsec(3) : 'a-secret-the-hub-never-had';
        expect(verifyWebhook(delivery.raw, delivery.headers, [stranger, previous], { scheme }).secretIndex).toBe(1);
        expect(codeOf(() => verifyWebhook(delivery.raw, delivery.headers, stranger, { scheme }))).toBe('invalid_signature');
      }
    });
  });

  describe('the JetStream publisher', () => {
    const streamName = (): string => `${env.prefix.toUpperCase()}_EVENTS`;
    let direct: HookhubJetStreamPublisher;
    let latestVersion: number;

    beforeAll(async () => {
      direct = new HookhubJetStreamPublisher({
        connection: nc,
        tenantId,
        prefix: env.prefix,
        accountUrl: 'https://sdk.example.com',
        catalogue: { baseUrl: hub.api.baseUrl, apiKey: publisherKey },
      });
      await admin.api.POST('/v1/subscriptions', {
        body: { url: `${receiver.url}/direct`, event_types: ['message.created'], secret: 'sdk-direct-secret-00001' },
      });
      const { items } = await admin.eventTypes();
      const item = items.find((i) => i.type === 'message.created') as { latest_version?: number } | undefined;
      latestVersion = item?.latest_version ?? 1;
    });

    it('publishes on <prefix>.events.<tenant>.<type> with Nats-Msg-Id <tenant>:<id> and the schema version; the hub records and delivers it', async () => {
      const model = { id: 'm-1', ticket_id: 't-1', direction: 'inbound', channel: 'email', body: 'Hello' };
      const receipt = await direct.publish({ id: 'evt-direct-1', type: 'message.created', model_id: 'm-1', model, actor_type: 'user', actor_id: 'u-1' });
      expect(receipt).toMatchObject({
        id: 'evt-direct-1',
        subject: `${env.prefix}.events.${tenantId}.message.created`,
        stream: streamName(),
        duplicate: false,
        schemaVersion: latestVersion,
      });

      const jsm = await nc.jetstreamManager();
      const stored = await jsm.streams.getMessage(streamName(), { seq: receipt.seq });
      expect(stored.subject).toBe(receipt.subject);
      expect(stored.header.get('Nats-Msg-Id')).toBe(`${tenantId}:evt-direct-1`);
      expect(stored.header.get(SCHEMA_VERSION_HEADER)).toBe(String(latestVersion));
      const envelope = JSON.parse(new TextDecoder().decode(stored.data)) as Record<string, unknown>;
      expect(Object.keys(envelope)).toEqual([...ENVELOPE_FIELDS]);
      expect(envelope).toMatchObject({ account_id: tenantId, account_url: 'https://sdk.example.com', model_type: 'message', data: {}, actor_name: null });

      expect(await recorded('evt-direct-1')).toMatchObject({ id: 'evt-direct-1', type: 'message.created', model_id: 'm-1', model });
      const delivery = await deliveryOf('/direct', 'evt-direct-1');
      expect(verifyWebhook(delivery.raw, delivery.headers, 'sdk-direct-secret-00001', { scheme: 'sha256' }).payload).toEqual(envelope);

      const again = await direct.publish({ id: 'evt-direct-1', type: 'message.created', model_id: 'm-1', model });
      expect(again).toMatchObject({ duplicate: true, seq: receipt.seq });
    });

    it('writes the envelope in the hub’s own field order (as an event published through the API is stored)', async () => {
      const { id } = await admin.publish({ type: 'ticket.created', model_id: 't-o', model: { id: 't-o' } });
      const jsm = await nc.jetstreamManager();
      const viaApi = await jsm.streams.getMessage(streamName(), { last_by_subj: `${env.prefix}.events.${tenantId}.ticket.created` });
      const hubEnvelope = JSON.parse(new TextDecoder().decode(viaApi.data)) as Record<string, unknown> & { id: string };
      expect(hubEnvelope.id).toBe(id);
      expect(Object.keys(hubEnvelope)).toEqual([...ENVELOPE_FIELDS]);
      const prepared = await direct.prepare({
        id: 'evt-order',
        type: 'ticket.created',
        model_id: 't-o',
        model: { id: 't-o' },
        created_at: String(hubEnvelope.created_at),
      });
      expect(prepared.payload).toBe(serializeEnvelope({ ...(hubEnvelope as unknown as EventEnvelope), id: 'evt-order' }));
    });

    it('validates against the schema version asked for (default: the latest), announces it, and the hub delivers it as that version', async () => {
      const orderV1 = { type: 'object', required: ['id', 'total_cents'], properties: { id: { type: 'string' }, total_cents: { type: 'integer' } } };
      const orderV2 = {
        ...orderV1,
        required: ['id', 'total_cents', 'currency'],
        properties: { ...orderV1.properties, currency: { type: 'string', minLength: 3 } },
      };
      await admin.api.POST('/v1/event-types', {
        body: {
          name: 'order.paid',
          description: 'An order was paid.',
          model_type: 'order',
          model_schema: orderV1,
          example: { model: { id: 'o-x', total_cents: 1 } },
        },
      });
      await admin.api.POST('/v1/event-types/{name}/versions', {
        params: { path: { name: 'order.paid' } },
        body: { model_schema: orderV2, example: { model: { id: 'o-x', total_cents: 1, currency: 'EUR' } } },
      });
      await admin.api.PATCH('/v1/event-types/{name}/versions/{version}', { params: { path: { name: 'order.paid', version: 1 } }, body: { deprecated: true } });
      await admin.api.POST('/v1/subscriptions', { body: { url: `${receiver.url}/orders`, event_types: ['order.paid'] } });
      // A publisher whose catalogue is fetched now, with the new type and its two versions.
      const orders = new HookhubJetStreamPublisher({ connection: nc, tenantId, prefix: env.prefix, catalogue: admin });
      const jsm = await nc.jetstreamManager();

      const v2 = await orders.publish({ id: 'evt-order-2', type: 'order.paid', model_id: 'o-2', model: { id: 'o-2', total_cents: 500, currency: 'EUR' } });
      expect(v2).toMatchObject({ schemaVersion: 2, deprecated: false });
      expect((await jsm.streams.getMessage(streamName(), { seq: v2.seq })).header.get(SCHEMA_VERSION_HEADER)).toBe('2');

      const oldShape = { type: 'order.paid', model_id: 'o-1', model: { id: 'o-1', total_cents: 500 } };
      const refused = await orders.publish({ id: 'evt-order-1', ...oldShape }).catch((e: unknown) => e);
      expect((refused as HookhubValidationError).errors).toEqual([{ pointer: '#/model/currency', detail: 'currency is required' }]);
      const v1 = await orders.publish({ id: 'evt-order-1', ...oldShape }, { schemaVersion: 1 });
      expect(v1).toMatchObject({ schemaVersion: 1, deprecated: true });
      expect((await jsm.streams.getMessage(streamName(), { seq: v1.seq })).header.get(SCHEMA_VERSION_HEADER)).toBe('1');

      expect((await deliveryOf('/orders', 'evt-order-2')).headers['x-webhook-schema-version']).toBe('2');
      expect((await deliveryOf('/orders', 'evt-order-1')).headers['x-webhook-schema-version']).toBe('1');
    });

    it('validates against the catalogue before publishing: nothing reaches the stream', async () => {
      const jsm = await nc.jetstreamManager();
      const before = (await jsm.streams.info(streamName())).state.last_seq;
      const wrongModel = await direct.publish({ type: 'message.created', model_id: 'm-2', model: { id: 'm-2' } }).catch((e: unknown) => e);
      expect(wrongModel).toBeInstanceOf(HookhubValidationError);
      expect((wrongModel as HookhubValidationError).errors).toEqual([{ pointer: '#/model/ticket_id', detail: 'ticket_id is required' }]);
      const mismatch = await direct.publish({ type: 'ticket.created', model_id: 't-1', model: { id: 't-2' } }).catch((e: unknown) => e);
      expect((mismatch as HookhubValidationError).errors).toEqual([{ pointer: '#/model/id', detail: 'must equal model_id' }]);
      const unknown = await direct.publish({ type: 'ticket.exploded', model_id: 't-1' }).catch((e: unknown) => e);
      expect((unknown as HookhubValidationError).errors).toEqual([{ pointer: '#/type', detail: 'is not in the catalogue' }]);
      const noVersion = await direct.publish({ type: 'ticket.created', model_id: 't-1', model: { id: 't-1' } }, { schemaVersion: 99 }).catch((e: unknown) => e);
      expect((noVersion as HookhubValidationError).errors).toEqual([{ pointer: '#/schema_version', detail: expect.stringMatching(/^must be one of: /) }]);
      const badDate = await direct.publish({ type: 'ticket.created', model_id: 't-1', created_at: 'yesterday' }).catch((e: unknown) => e);
      expect((badDate as HookhubValidationError).errors).toEqual([{ pointer: '#/created_at', detail: 'must be an ISO-8601 date-time' }]);
      expect((await jsm.streams.info(streamName())).state.last_seq).toBe(before);
    });
  });

  describe('the NestJS module', () => {
    /** A service of the application, publishing a domain event in one line. */
    @Injectable()
    class TicketService {
      constructor(@Inject(HookhubPublisher) private readonly hookhub: HookhubPublisher) {}

      async open(id: string): Promise<string> {
        return (await this.hookhub.publish({ type: 'ticket.created', model_id: id, model: { id, state: 'open' } })).id;
      }
    }

    const SETTINGS = 'SETTINGS';
    @Module({ providers: [{ provide: SETTINGS, useFactory: () => ({ url: hub.api.baseUrl, key: publisherKey }) }], exports: [SETTINGS] })
    class SettingsModule {}

    it('forRoot provides an injectable publisher', async () => {
      @Module({ imports: [HookhubModule.forRoot({ baseUrl: hub.api.baseUrl, apiKey: publisherKey })], providers: [TicketService] })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      try {
        const id = await app.get(TicketService).open('t-nest-1');
        expect(await recorded(id)).toMatchObject({ type: 'ticket.created', model_id: 't-nest-1' });
      } finally {
        await app.close();
      }
    });

    it('forRootAsync takes its options from a factory with injected configuration', async () => {
      @Module({
        imports: [
          HookhubModule.forRootAsync({
            imports: [SettingsModule],
            inject: [SETTINGS],
            useFactory: (settings: { url: string; key: string }) => ({ baseUrl: settings.url, apiKey: settings.key, timeoutMs: 5_000 }),
          }),
        ],
        providers: [TicketService],
      })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      try {
        const id = await app.get(TicketService).open('t-nest-2');
        expect(await recorded(id)).toMatchObject({ type: 'ticket.created', model_id: 't-nest-2' });
        expect(app.get(HookhubClient)).toBeInstanceOf(HookhubClient);
      } finally {
        await app.close();
      }
    });
  });
});
