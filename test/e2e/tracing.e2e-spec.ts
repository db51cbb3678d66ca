import { createHmac } from 'node:crypto';
import { connect, headers as natsHeaders, NatsConnection } from 'nats';
import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SubjectNames } from '@hookhub/contracts';
import { anEnvelope, metaJson, metaStatusPayload, metaWebhookRequest } from '@hookhub/testing';
import { RunningTracing, SpanKind, startTracing } from '@hookhub/tracing';
import { HookhubClient } from '../../libs/sdk/src';
import { HookhubJetStreamPublisher } from '../../libs/sdk/src/jetstream';
import { eventually } from '../support/eventually';
import { connectProvider, RunningIngest, send, startIngest } from '../support/ingest';
import { ReceivedRequest, TestReceiver } from '../support/receiver';
import { startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';

/**
 * Tracing (#15) against real deliveries: the apps in this process with an in-memory exporter, real NATS
 * and PostgreSQL, a loopback receiver. One trace per event from the API (or a provider callback, or a
 * publisher's own traceparent) through JetStream, the fan-out and each attempt, retries included, and the
 * receiver's `traceparent` naming the attempt's span.
 */

const SECRET = 'my-webhook-secret-123';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

let exporter: InMemorySpanExporter;
let tracing: RunningTracing;
let ctx: TenantHub;
let receiver: TestReceiver;
let ingest: RunningIngest;
let nc: NatsConnection;

beforeAll(async () => {
  exporter = new InMemorySpanExporter();
  // Before the apps are built, as main.ts does: the server span middleware is installed only when tracing is on.
  tracing = await startTracing({ serviceName: 'hookhub-test', spanProcessors: [new SimpleSpanProcessor(exporter)], detectResources: false });
  ctx = await startTenantHub();
  ingest = await startIngest(ctx.env);
  receiver = await new TestReceiver().start();
  nc = await connect({ servers: ctx.env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
  await receiver?.stop();
  await ingest?.close();
  await stopTenantHub(ctx);
  await tracing?.shutdown();
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const inTrace = (traceId: string): ReadableSpan[] => spans().filter((s) => s.spanContext().traceId === traceId);
const idOf = (s: ReadableSpan): string => s.spanContext().spanId;
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
/** An OpenTelemetry time ([seconds, nanoseconds]) in milliseconds. */
const hrMs = ([s, ns]: [number, number]): number => s * 1000 + ns / 1e6;
const childrenOf = (parent: ReadableSpan, all: ReadableSpan[]): ReadableSpan[] => all.filter((s) => parentOf(s) === idOf(parent));
/** The one span of `all` with this name (and attributes), failing when there is none or several. */
function only(all: ReadableSpan[], name: string, attributes: Record<string, unknown> = {}): ReadableSpan {
  const found = all.filter((s) => s.name === name && Object.entries(attributes).every(([k, v]) => s.attributes[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} spans named ${name} ${JSON.stringify(attributes)}: ${all.map((s) => s.name).join(', ')}`);
  return found[0];
}
const requestsFor = (path: string, eventId: string): ReceivedRequest[] =>
  receiver.requests.filter((r) => r.url.startsWith(path) && (r.json() as { id?: string }).id === eventId);

async function publish(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<void> {
  const res = await ctx.hub.api.request('POST', '/v1/events', { token: ctx.publisher, body, headers });
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${res.text}`);
}

describe('tracing on', () => {
  let subA: string;
  let subB: string;

  beforeAll(async () => {
    let bCalls = 0;
    receiver.respond = (req) => (req.url.startsWith('/b') && bCalls++ === 0 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' });
    subA = await subscribe(ctx, { url: `${receiver.url}/a/path-token-a`, event_types: ['ticket.created'], secret: SECRET });
    subB = await subscribe(ctx, { url: `${receiver.url}/b/hook?token=query-token-b`, event_types: ['ticket.created'], secret: SECRET, retry_policy_ms: [200] });
    await subscribe(ctx, { url: `${receiver.url}/c`, event_types: ['ticket.updated', 'message.delivery_status'], secret: SECRET });
  });

  it('gives one event to two subscriptions, one of them retried, one trace: API, dispatcher with its fan-out, attempts, retry job', async () => {
    await publish({ id: 'evt-traced', type: 'ticket.created', model_id: 't-traced', model: { id: 't-traced', subject: 'private subject line' } });
    await receiver.waitFor(3);
    const [a1] = requestsFor('/a', 'evt-traced');
    const [b1, b2] = requestsFor('/b', 'evt-traced');
    expect([a1, b1, b2].map((r) => r?.headers['x-webhook-attempt'])).toEqual(['1', '1', '2']);

    const server = only(spans(), 'POST /v1/events');
    const traceId = server.spanContext().traceId;
    // The consumer span of the retry ends once its attempt is recorded; the event's once the event is acked.
    await eventually(() => {
      only(inTrace(traceId), 'process retries');
      only(inTrace(traceId), 'process events');
    });
    const all = inTrace(traceId);

    // The tree, kinds and parents.
    expect(server).toMatchObject({ kind: SpanKind.SERVER, parentSpanContext: undefined });
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/events',
      'http.response.status_code': 202,
      'hookhub.event.id': 'evt-traced',
      'hookhub.event.type': 'ticket.created',
    });
    // The request's span is the event's producer: its context is in the NATS headers.
    const process = only(all, 'process events');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(process)).toBe(idOf(server));
    expect(process.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'hookhub.event.id': 'evt-traced',
      'hookhub.event.type': 'ticket.created',
      'hookhub.tenant.id': ctx.tenant.tenantId,
      'hookhub.deliveries': 2,
    });
    // The fan-out: an event on the consumer span when the batch's transaction committed, before any attempt.
    expect(process.events.map((e) => e.name)).toEqual(['fan-out']);
    const fanOutAt = process.events[0].time;

    const attemptA = only(all, 'POST', { 'hookhub.subscription.id': subA });
    const attemptB1 = only(all, 'POST', { 'hookhub.subscription.id': subB, 'hookhub.attempt': 1 });
    const retryJob = only(all, 'publish retries');
    expect(
      childrenOf(process, all)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['POST', 'POST', 'publish retries']);
    for (const attempt of [attemptA, attemptB1]) expect(hrMs(attempt.startTime)).toBeGreaterThanOrEqual(hrMs(fanOutAt));
    expect(retryJob).toMatchObject({
      kind: SpanKind.PRODUCER,
      attributes: expect.objectContaining({ 'hookhub.delivery.id': b1.headers['x-webhook-delivery'], 'hookhub.attempt': 2 }),
    });
    const retry = only(all, 'process retries');
    expect(retry.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(retry)).toBe(idOf(retryJob));
    const attemptB2 = only(all, 'POST', { 'hookhub.subscription.id': subB, 'hookhub.attempt': 2 });
    expect(parentOf(attemptB2)).toBe(idOf(retry));
    expect(all).toHaveLength(7);

    // Each attempt: an HTTP client span with the outcome; the failed one is an error.
    expect(attemptA).toMatchObject({ kind: SpanKind.CLIENT, status: { code: 0 } });
    expect(attemptA.attributes).toMatchObject({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'url.scheme': 'http',
      'http.response.status_code': 200,
      'hookhub.delivery.id': a1.headers['x-webhook-delivery'],
      'hookhub.subscription.id': subA,
      'hookhub.attempt': 1,
    });
    expect(attemptB1).toMatchObject({ status: { code: 2, message: 'endpoint answered 503' }, attributes: expect.objectContaining({ 'error.type': '503' }) });
    expect(attemptB2.attributes).toMatchObject({ 'http.request.resend_count': 1, 'http.response.status_code': 200 });

    // The receiver's traceparent: the event's trace, the attempt's span as parent.
    expect(a1.headers.traceparent).toBe(`00-${traceId}-${idOf(attemptA)}-01`);
    expect(b1.headers.traceparent).toBe(`00-${traceId}-${idOf(attemptB1)}-01`);
    expect(b2.headers.traceparent).toBe(`00-${traceId}-${idOf(attemptB2)}-01`);
    // An extra header: the signature is over the body as before, and the delivery log keeps the headers as signed.
    for (const r of [a1, b1, b2]) expect(r.headers['x-webhook-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`);
    const logged = await ctx.db.query(
      `SELECT a.request_headers FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.event_id = 'evt-traced'`,
    );
    expect(logged.rows).toHaveLength(3);
    for (const row of logged.rows) expect(Object.keys(row.request_headers as object).map((k) => k.toLowerCase())).not.toContain('traceparent');

    // No secret, body or URL path/query in any span.
    const text = JSON.stringify(all.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
    for (const secret of [SECRET, 'private subject line', 'path-token-a', 'query-token-b', ctx.publisher]) expect(text).not.toContain(secret);
  });

  it("continues a publisher's own trace sent to the API as traceparent", async () => {
    const publisherTrace = '0af7651916cd43dd8448eb211c80319c';
    const publisherSpan = 'b7ad6b7169203331';
    await publish(
      { id: 'evt-continued', type: 'ticket.updated', model_id: 't-c', model: { id: 't-c' } },
      { traceparent: `00-${publisherTrace}-${publisherSpan}-01`, tracestate: 'pub=1' },
    );
    await eventually(() => expect(requestsFor('/c', 'evt-continued')).toHaveLength(1));
    const server = spans().find((s) => s.name === 'POST /v1/events' && s.spanContext().traceId === publisherTrace);
    expect(server?.parentSpanContext).toMatchObject({ traceId: publisherTrace, spanId: publisherSpan, isRemote: true });
    const [req] = requestsFor('/c', 'evt-continued');
    expect(TRACEPARENT.exec(String(req.headers.traceparent))?.[1]).toBe(publisherTrace);
    // The publisher's tracestate travels along (it is the trace's, not Hookhub's).
    expect(req.headers.tracestate).toBe('pub=1');
  });

  it('continues the trace of a publisher that sends traceparent in the NATS headers when publishing directly', async () => {
    const publisherTrace = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
    const publisherSpan = 'cccccccccccccccc';
    const h = natsHeaders();
    h.set('traceparent', `00-${publisherTrace}-${publisherSpan}-01`);
    const envelope = anEnvelope({ id: 'evt-direct', account_id: ctx.tenant.tenantId, model_id: 't-d' });
    await nc.jetstream().publish(new SubjectNames(ctx.env.prefix).event(ctx.tenant.tenantId, 'ticket.updated'), JSON.stringify(envelope), {
      msgID: `${ctx.tenant.tenantId}:evt-direct`,
      headers: h,
    });
    await eventually(() => expect(requestsFor('/c', 'evt-direct')).toHaveLength(1));
    await eventually(() => void only(inTrace(publisherTrace), 'process events'));
    const process = only(inTrace(publisherTrace), 'process events');
    expect(process.parentSpanContext).toMatchObject({ spanId: publisherSpan, isRemote: true });
    const attempt = only(inTrace(publisherTrace), 'POST');
    expect(requestsFor('/c', 'evt-direct')[0].headers.traceparent).toBe(`00-${publisherTrace}-${idOf(attempt)}-01`);
  });

  it('continues the trace of an SDK publisher that passes its traceparent, through the API and straight to JetStream', async () => {
    const publisherTrace = 'dddddddddddddddd1111111111111111';
    const [apiSpan, directSpan] = ['eeeeeeeeeeeeeeee', 'ffffffffffffffff'];
    const client = new HookhubClient({ baseUrl: ctx.hub.api.baseUrl, apiKey: ctx.publisher });
    await client.publish(
      { id: 'evt-sdk-api', type: 'ticket.updated', model_id: 't-s', model: { id: 't-s' } },
      { headers: { traceparent: `00-${publisherTrace}-${apiSpan}-01` } },
    );
    const direct = new HookhubJetStreamPublisher({ connection: nc, tenantId: ctx.tenant.tenantId, catalogue: client, prefix: ctx.env.prefix });
    await direct.publish(
      { id: 'evt-sdk-direct', type: 'ticket.updated', model_id: 't-s', model: { id: 't-s' } },
      { headers: { traceparent: `00-${publisherTrace}-${directSpan}-01` } },
    );
    await eventually(() => expect([...requestsFor('/c', 'evt-sdk-api'), ...requestsFor('/c', 'evt-sdk-direct')]).toHaveLength(2));
    const server = only(inTrace(publisherTrace), 'POST /v1/events');
    expect(server.parentSpanContext).toMatchObject({ spanId: apiSpan, isRemote: true });
    await eventually(() => expect(inTrace(publisherTrace).filter((s) => s.name === 'process events')).toHaveLength(2));
    const directProcess = only(inTrace(publisherTrace), 'process events', { 'hookhub.event.id': 'evt-sdk-direct' });
    expect(directProcess.parentSpanContext).toMatchObject({ spanId: directSpan, isRemote: true });
    for (const id of ['evt-sdk-api', 'evt-sdk-direct'])
      expect(TRACEPARENT.exec(String(requestsFor('/c', id)[0].headers.traceparent))?.[1]).toBe(publisherTrace);
  });

  it("traces a batch: one server span, each event's dispatcher span its child, each event delivered in that trace", async () => {
    const res = await ctx.hub.api.request('POST', '/v1/events/batch', {
      token: ctx.publisher,
      body: { events: ['evt-batch-1', 'evt-batch-2'].map((id) => ({ id, type: 'ticket.updated', model_id: id, model: { id } })) },
    });
    expect(res.status).toBe(202);
    await eventually(() => expect([...requestsFor('/c', 'evt-batch-1'), ...requestsFor('/c', 'evt-batch-2')]).toHaveLength(2));
    const server = only(spans(), 'POST /v1/events/batch');
    const traceId = server.spanContext().traceId;
    await eventually(() => expect(inTrace(traceId).filter((s) => s.name === 'process events')).toHaveLength(2));
    const processed = inTrace(traceId).filter((s) => s.name === 'process events');
    expect(processed.map((s) => [s.attributes['hookhub.event.id'], parentOf(s)]).sort()).toEqual([
      ['evt-batch-1', idOf(server)],
      ['evt-batch-2', idOf(server)],
    ]);
    for (const id of ['evt-batch-1', 'evt-batch-2']) expect(TRACEPARENT.exec(String(requestsFor('/c', id)[0].headers.traceparent))?.[1]).toBe(traceId);
  });

  it('starts the trace of the events made of a provider callback at the callback request', async () => {
    const connection = await connectProvider(ctx.hub.api, ctx.tenant.adminKey, ingest, 'meta_whatsapp', { app_secret: 'meta-app-secret', verify_token: 'v' });
    const body = metaJson(metaStatusPayload([{ id: 'wamid.traced', status: 'delivered', timestamp: '1750030073', recipient_id: '16505551234' }]));
    const res = await send(metaWebhookRequest(connection.url, body, 'meta-app-secret'));
    expect(res.status).toBe(200);
    await eventually(() => expect(receiver.requests.filter((r) => r.headers['x-webhook-event'] === 'message.delivery_status')).toHaveLength(1));
    const [req] = receiver.requests.filter((r) => r.headers['x-webhook-event'] === 'message.delivery_status');
    const server = only(spans(), 'POST /ingest/:provider/:connectionId');
    expect(server.attributes).toMatchObject({ 'http.route': '/ingest/:provider/:connectionId', 'http.response.status_code': 200 });
    const traceId = server.spanContext().traceId;
    expect(TRACEPARENT.exec(String(req.headers.traceparent))?.[1]).toBe(traceId);
    // Published after the answer: a producer span of its own, child of the callback's.
    const publishSpan = only(inTrace(traceId), 'publish events');
    expect(publishSpan).toMatchObject({
      kind: SpanKind.PRODUCER,
      attributes: expect.objectContaining({ 'messaging.system': 'nats', 'hookhub.duplicate': false }),
    });
    expect(parentOf(publishSpan)).toBe(idOf(server));
    await eventually(() => expect(parentOf(only(inTrace(traceId), 'process events'))).toBe(idOf(publishSpan)));
  });

  it('keeps the trace for attempts that wait in PostgreSQL: a rate line, and a manual retry of a dead-lettered delivery', async () => {
    const previous = receiver.respond;
    let dUp = false;
    receiver.respond = (req, index) => (req.url.startsWith('/d') && !dUp ? { status: 500, body: 'down' } : previous(req, index));
    const subD = await subscribe(ctx, { url: `${receiver.url}/d`, event_types: ['ticket.deleted'], secret: SECRET, retry_policy_ms: [] });
    const subE = await subscribe(ctx, { url: `${receiver.url}/e`, event_types: ['ticket.deleted'], secret: SECRET, rate_limit: { per_second: 5, burst: 5 } });
    await publish({ id: 'evt-waiting', type: 'ticket.deleted', model_id: 't-w', model: { id: 't-w' } });
    await eventually(() => expect(requestsFor('/e', 'evt-waiting')).toHaveLength(1));
    // No retries in its policy: the failed first attempt dead-letters the delivery.
    let deadLettered = '';
    await eventually(async () => {
      const found = await ctx.db.query(`SELECT id, status FROM deliveries WHERE event_id = 'evt-waiting' AND subscription_id = $1`, [subD]);
      expect(found.rows[0]?.status).toBe('failed');
      deadLettered = found.rows[0].id as string;
    });
    dUp = true;
    const retried = await ctx.hub.api.request('POST', `/v1/deliveries/${deadLettered}/retry`, { token: ctx.tenant.adminKey });
    expect(retried.status).toBe(202);
    await eventually(() => expect(requestsFor('/d', 'evt-waiting')).toHaveLength(2));

    const traceId = only(spans(), 'POST /v1/events', { 'hookhub.event.id': 'evt-waiting' }).spanContext().traceId;
    await eventually(() => void only(inTrace(traceId), 'process retries'));
    const all = inTrace(traceId);
    const process = only(all, 'process events');
    // The rate line's pacer sent the attempt from PostgreSQL: the event's consumer span is still its parent.
    const fromLine = only(all, 'POST', { 'hookhub.subscription.id': subE });
    expect(parentOf(fromLine)).toBe(idOf(process));
    expect(requestsFor('/e', 'evt-waiting')[0].headers.traceparent).toBe(`00-${traceId}-${idOf(fromLine)}-01`);
    // The manual retry waited in PostgreSQL until the scheduler enqueued it: its job joins the event's trace.
    const job = only(all, 'publish retries');
    expect(parentOf(job)).toBe(idOf(process));
    const retry = only(all, 'process retries');
    expect(parentOf(retry)).toBe(idOf(job));
    const manual = only(all, 'POST', { 'hookhub.subscription.id': subD, 'hookhub.attempt': 2 });
    expect(parentOf(manual)).toBe(idOf(retry));
    expect(requestsFor('/d', 'evt-waiting')[1].headers.traceparent).toBe(`00-${traceId}-${idOf(manual)}-01`);
    receiver.respond = previous;
  });
});

describe('tracing off', () => {
  it('sends no traceparent and makes no spans', async () => {
    await tracing.shutdown();
    await publish(
      { id: 'evt-untraced', type: 'ticket.updated', model_id: 't-u', model: { id: 't-u' } },
      // Even a publisher's own trace is not passed on: with tracing off the hub takes no part in traces.
      { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    );
    await eventually(() => expect(requestsFor('/c', 'evt-untraced')).toHaveLength(1));
    const [req] = requestsFor('/c', 'evt-untraced');
    expect(req.headers.traceparent).toBeUndefined();
    expect(req.headers.tracestate).toBeUndefined();
  });
});
