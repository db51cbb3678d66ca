import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HookhubClient, type HookhubClientOptions } from './client';
import { HookhubHttpError, HookhubNetworkError, HookhubProblemError, HookhubTimeoutError } from './errors';
import { backoffMs, DEFAULT_RETRY } from './retrying-fetch';

/**
 * The client's retry, timeout and error handling against a loopback HTTP
 * server that answers what each test scripts (the hub cannot be made to fail
 * on cue); the same client against the real hub is in test/e2e/sdk.e2e-spec.ts.
 */
interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}
type Reply = (req: IncomingMessage, res: ServerResponse) => void;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const json =
  (status: number, body: unknown, type = 'application/json'): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(JSON.stringify(body));
  };
const problem = (status: number, name: string, extra: Record<string, unknown> = {}): Reply =>
  json(status, { type: `https://hookhub.dev/problems/${name}`, title: name, status, detail: `${name} happened`, ...extra }, 'application/problem+json');
const notConfirmed = problem(503, 'event-not-confirmed', { retry_with_same_id: true });
const accepted: Reply = (req, res) => json(202, { id: JSON.parse(lastBody.get(req) ?? '{}').id, duplicate: false })(req, res);
const hangUp: Reply = (req) => req.socket.destroy();
const lastBody = new WeakMap<IncomingMessage, string>();

describe('HookhubClient retries, timeouts and errors', () => {
  let server: Server;
  let seen: Seen[];
  let replies: Reply[];
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        lastBody.set(req, body);
        seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
        // The last reply repeats once the script runs out.
        const reply = replies.length > 1 ? replies.shift()! : replies[0];
        reply(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
    replies = [];
  });

  const client = (options: Partial<HookhubClientOptions> = {}): HookhubClient =>
    new HookhubClient({ baseUrl: base, apiKey: 'hh_test', retry: { retries: 3, baseDelayMs: 5, maxDelayMs: 20 }, ...options });
  const ids = (): string[] => seen.map((s) => (JSON.parse(s.body) as { id: string }).id);

  it('gives a publish an id before the first try and keeps it through 5xx retries', async () => {
    replies = [notConfirmed, notConfirmed, accepted];
    const receipt = await client().publish({ type: 'ticket.created', model_id: 't-1', model: { id: 't-1' } });
    expect(seen).toHaveLength(3);
    expect(receipt.id).toMatch(UUID);
    expect(ids()).toEqual([receipt.id, receipt.id, receipt.id]);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/events', authorization: 'Bearer hh_test' });
  });

  it('keeps the caller’s id, and retries after the connection drops', async () => {
    replies = [hangUp, hangUp, accepted];
    const receipt = await client().publish({ id: 'evt-mine', type: 'ticket.created', model_id: 't-1' });
    expect(receipt.id).toBe('evt-mine');
    expect(ids()).toEqual(['evt-mine', 'evt-mine', 'evt-mine']);
  });

  it('gives an id to a publish sent through the typed api too, so it is retried safely', async () => {
    replies = [notConfirmed, accepted];
    const { data } = await client().api.POST('/v1/events', { body: { type: 'ticket.created', model_id: 't-1' } });
    expect(ids()).toHaveLength(2);
    expect(ids()[0]).toMatch(UUID);
    expect(ids()[1]).toBe(ids()[0]);
    expect(data?.id).toBe(ids()[0]);
  });

  it('gives every event of a batch its id before the first try, keeps the caller’s, and retries the batch with the same ids', async () => {
    replies = [notConfirmed, json(202, { accepted: 2, duplicates: 0, failed: 0, items: [] })];
    const receipt = await client().publishBatch([
      { type: 'ticket.created', model_id: 't-1' },
      { id: 'evt-own', type: 'ticket.created', model_id: 't-2' },
    ]);
    expect(receipt.accepted).toBe(2);
    const tries = seen.map((s) => (JSON.parse(s.body) as { events: Array<{ id: string }> }).events.map((e) => e.id));
    expect(seen.map((s) => s.url)).toEqual(['/v1/events/batch', '/v1/events/batch']);
    expect(tries[0]).toEqual([expect.stringMatching(UUID), 'evt-own']);
    expect(tries[1]).toEqual(tries[0]);
  });

  it('stops after the bounded retries: the last answer’s problem is thrown, with the tries it took', async () => {
    replies = [notConfirmed];
    const err = await client({ retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 } })
      .publish({ type: 'ticket.created', model_id: 't-1' })
      .catch((e: unknown) => e);
    expect(seen).toHaveLength(3);
    expect(err).toBeInstanceOf(HookhubProblemError);
    expect(err).toMatchObject({ status: 503, type: 'https://hookhub.dev/problems/event-not-confirmed', attempts: 3 });
    expect((err as HookhubProblemError).problem.retry_with_same_id).toBe(true);
  });

  it('turns a problem document into a typed error, with each invalid field', async () => {
    const errors = [{ pointer: '#/model/id', detail: 'must equal model_id' }];
    replies = [problem(422, 'invalid-event', { errors })];
    const err = await client()
      .publish({ type: 'ticket.created', model_id: 't-1', model: { id: 't-2' } })
      .catch((e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(err).toBeInstanceOf(HookhubProblemError);
    expect(err).toMatchObject({
      status: 422,
      type: 'https://hookhub.dev/problems/invalid-event',
      title: 'invalid-event',
      detail: 'invalid-event happened',
      errors,
    });
  });

  it('sends other POSTs once: creating twice is not safe', async () => {
    replies = [problem(503, 'unavailable')];
    const err = await client()
      .api.POST('/v1/subscriptions', { body: { url: 'https://x.example/h', event_types: ['ticket.created'] } })
      .catch((e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(err).toMatchObject({ status: 503, attempts: 1 });
  });

  it('retries reads after 5xx; an answer that is not a problem document is an HTTP error with its body', async () => {
    replies = [(_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>')];
    const err = await client()
      .api.GET('/v1/subscriptions/{id}', { params: { path: { id: 'sub-1' } } })
      .catch((e: unknown) => e);
    expect(seen).toHaveLength(4);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/subscriptions/sub-1' });
    expect(err).toBeInstanceOf(HookhubHttpError);
    expect(err).not.toBeInstanceOf(HookhubProblemError);
    expect(err).toMatchObject({ status: 502, body: '<h1>Bad gateway</h1>', attempts: 4 });
  });

  it('gives each try timeoutMs, retries a timed-out publish with the same id, then throws a timeout', async () => {
    replies = [(_req, res) => setTimeout(() => json(202, {})(_req, res), 400)];
    const started = Date.now();
    const err = await client({ timeoutMs: 50, retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 } })
      .publish({ type: 'ticket.created', model_id: 't-1' })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(350);
    expect(err).toBeInstanceOf(HookhubTimeoutError);
    expect(err).toMatchObject({ timeoutMs: 50, attempts: 2 });
    expect(new Set(ids()).size).toBe(1);
  });

  it('reports an unreachable hub as a network error after its retries', async () => {
    // A port that was just free: nothing listens on it.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await new HookhubClient({ baseUrl: `http://127.0.0.1:${port}`, retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 } })
      .eventTypes()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookhubNetworkError);
    expect(err).toMatchObject({ attempts: 2 });
    expect((err as Error).message).toMatch(/could not be reached \(ECONNREFUSED; 2 tries\)/);
  });

  it('stops at once when the caller’s signal aborts, between tries too', async () => {
    replies = [notConfirmed];
    // Full jitter could pick a pause of a few milliseconds: make it the longest, so the abort lands between the tries.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.999);
    try {
      const controller = new AbortController();
      const pending = client({ retry: { retries: 5, baseDelayMs: 1_000, maxDelayMs: 1_000 } }).publish(
        { type: 'ticket.created', model_id: 't-1' },
        { signal: controller.signal },
      );
      while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen).toHaveLength(1);
    } finally {
      random.mockRestore();
    }
  });

  it('does not retry when retries are off', async () => {
    replies = [notConfirmed];
    await expect(client({ retry: false }).publish({ type: 'ticket.created', model_id: 't-1' })).rejects.toBeInstanceOf(HookhubProblemError);
    expect(seen).toHaveLength(1);
  });
});

describe('backoffMs', () => {
  const retry = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('grows exponentially up to its bound, jittered below it', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(retry, n, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffMs(retry, 3, () => 0)).toBe(0);
    expect(backoffMs(retry, 3, () => 0.5)).toBe(400);
  });

  it('waits at least Retry-After, never past the bound', () => {
    expect(backoffMs(retry, 0, () => 0, '0')).toBe(0);
    expect(backoffMs(retry, 0, () => 0, ' 1')).toBe(1_000);
    expect(backoffMs(retry, 0, () => 0, '120')).toBe(1_000);
    expect(backoffMs(retry, 0, () => 0, 'Wed, 21 Oct 2015 07:28:00 GMT')).toBe(0);
  });
});
