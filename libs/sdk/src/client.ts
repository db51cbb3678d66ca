import { randomUUID } from 'node:crypto';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { HookhubHttpError, HookhubProblemError, type ProblemDocument } from './errors';
import type { operations, paths } from './generated/hookhub-api';
import { DEFAULT_RETRY, retryingFetch, triesFor, type RetryOptions } from './retrying-fetch';

type JsonRequestBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type JsonResponse<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { 'application/json': infer B } } } } ? B : never;

/** The typed client of the hub's API: `api.GET('/v1/subscriptions/{id}', { params: { path: { id } } })`. */
export type HookhubApi = Client<paths>;
/** The body of `POST /v1/events`: the event as a publisher sends it. */
export type PublishEventInput = JsonRequestBody<operations['events.publish']>;
/** The answer to a publish: the event's id, and whether that id had been published before. */
export type PublishReceipt = JsonResponse<operations['events.publish'], 202>;
/** The answer to a batch publish: counts, and each event's outcome by its index (`accepted`, `duplicate`, `invalid`, `not_confirmed`). */
export type PublishBatchReceipt = JsonResponse<operations['events.publishBatch'], 202>;
/** `GET /v1/event-types`: the catalogue. */
export type EventTypeList = JsonResponse<operations['eventTypes.list'], 200>;

export interface HookhubClientOptions {
  /** The subscriptions app, e.g. `https://hookhub.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** A tenant API key (`hh_…`), or the platform admin token for `/v1/tenants`. */
  apiKey?: string;
  /** Milliseconds each try may take, answer included (default 15,000: a publish may wait up to 10 s for JetStream). */
  timeoutMs?: number;
  /** Retries after network errors, timeouts and 5xx answers; `false` turns them off. */
  retry?: RetryOptions | false;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** A fetch of your own (default: the global one). */
  fetch?: (input: Request, init?: RequestInit) => Promise<Response>;
}

export interface CallOptions {
  /** Abort the call (all its tries): e.g. `AbortSignal.timeout(5_000)` for an overall deadline. */
  signal?: AbortSignal;
  /**
   * Headers for this call only, on every try: e.g. the W3C `traceparent` of your span, so the hub's spans
   * (tracing on) and the webhooks' `traceparent` continue your trace (`propagation.inject(context.active(), headers)`).
   */
  headers?: Record<string, string>;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const DEFAULT_TIMEOUT_MS = 15_000;

type Publishable = { id?: string } & Record<string, unknown>;
const isObject = (value: unknown): value is Publishable => typeof value === 'object' && value !== null && !Array.isArray(value);
const withId = (event: Publishable): Publishable => (typeof event.id === 'string' && event.id !== '' ? event : { ...event, id: randomUUID() });

/**
 * Publishes carry an event id before their first try, so the hub stores the
 * event once however many tries reach it: the hub de-duplicates by id, and a
 * try whose answer was lost (a timeout, a 503 `event-not-confirmed`) may
 * have stored it. A publish without an id is given one here, which is what
 * makes it safe to retry; any other POST is sent once.
 */
async function publishWithIds(request: Request, schemaPath: string): Promise<Request | undefined> {
  if (request.method !== 'POST' || (schemaPath !== '/v1/events' && schemaPath !== '/v1/events/batch')) return undefined;
  let body: unknown;
  try {
    body = await request.clone().json();
  } catch {
    return undefined;
  }
  let filled: unknown;
  if (schemaPath === '/v1/events' && isObject(body)) filled = withId(body);
  // A batch: a list of events, or `{ events: [...] }`; every event gets its id.
  else if (Array.isArray(body) && body.every(isObject)) filled = body.map(withId);
  else if (isObject(body) && Array.isArray(body.events) && body.events.every(isObject)) filled = { ...body, events: body.events.map(withId) };
  else return undefined;
  return new Request(request, { body: JSON.stringify(filled) });
}

/** Turns every error answer into a thrown `HookhubProblemError` (RFC 9457 documents) or `HookhubHttpError`. */
async function toError(response: Response): Promise<HookhubHttpError> {
  const text = await response.text();
  const tries = triesFor(response);
  if ((response.headers.get('content-type') ?? '').includes('application/problem+json')) {
    try {
      const problem = JSON.parse(text) as ProblemDocument;
      if (typeof problem === 'object' && problem !== null && typeof problem.title === 'string') {
        return new HookhubProblemError(
          { ...problem, status: typeof problem.status === 'number' ? problem.status : response.status },
          tries,
          text.slice(0, 2000),
        );
      }
    } catch {
      /* not JSON after all: reported as a plain HTTP error below */
    }
  }
  return new HookhubHttpError(response.status, text.slice(0, 2000), tries);
}

/**
 * A client of the hub's admin and publish API. `api` is typed by the hub's
 * OpenAPI document (openapi-fetch); every error answer is thrown as a
 * `HookhubProblemError`, so `data` of a returned result is always the
 * success body. Each try has `timeoutMs`; network errors, timeouts and 5xx
 * answers are retried for reads, PUT/DELETE and publishes (with the same
 * event id), never for other POSTs.
 */
export class HookhubClient {
  readonly api: HookhubApi;

  constructor(options: HookhubClientOptions) {
    const retry = options.retry === false ? { ...DEFAULT_RETRY, retries: 0 } : { ...DEFAULT_RETRY, ...options.retry };
    const retrySafe = new WeakSet<Request>();
    const fetchImpl = options.fetch ?? ((input: Request, init?: RequestInit) => fetch(input, init));
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      fetch: retryingFetch({
        retry,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        retrySafe: (request) => retrySafe.has(request),
        fetch: fetchImpl,
      }),
    });
    const middleware: Middleware = {
      async onRequest({ request, schemaPath }) {
        const published = await publishWithIds(request, schemaPath);
        const sent = published ?? request;
        if (published || IDEMPOTENT_METHODS.has(sent.method)) retrySafe.add(sent);
        return published;
      },
      async onResponse({ response }) {
        if (!response.ok) throw await toError(response);
        return undefined;
      },
    };
    this.api.use(middleware);
  }

  /**
   * Publishes an event (`POST /v1/events`); resolves once JetStream stored it.
   * Without an `id` the event gets a UUID before the first try, so retries
   * are de-duplicated; the receipt carries it.
   */
  async publish(event: PublishEventInput, options: CallOptions = {}): Promise<PublishReceipt> {
    const body = { ...event, id: event.id ?? randomUUID() };
    const { data } = await this.api.POST('/v1/events', { body, signal: options.signal, headers: options.headers });
    return data as PublishReceipt;
  }

  /**
   * Publishes up to 1,000 events in one request (`POST /v1/events/batch`).
   * Every event without an `id` gets a UUID before the first try, so a retried
   * batch is de-duplicated event by event. Resolves with each event's outcome
   * when at least one was stored (202, or 207 when some were not: publish the
   * `invalid` ones fixed and the `not_confirmed` ones again, same ids); throws
   * a `HookhubProblemError` (`invalid-batch`, `event-not-confirmed`, with
   * `problem.items`) when none was.
   */
  async publishBatch(events: PublishEventInput[], options: CallOptions = {}): Promise<PublishBatchReceipt> {
    const body = { events: events.map((event) => ({ ...event, id: event.id ?? randomUUID() })) };
    const { data } = await this.api.POST('/v1/events/batch', { body, signal: options.signal, headers: options.headers });
    return data as PublishBatchReceipt;
  }

  /** The event-type catalogue (`GET /v1/event-types`). */
  async eventTypes(options: CallOptions = {}): Promise<EventTypeList> {
    const { data } = await this.api.GET('/v1/event-types', { signal: options.signal, headers: options.headers });
    return data as EventTypeList;
  }
}
