import { HookhubNetworkError, HookhubTimeoutError } from './errors';

/** How often and how patiently a request is tried again after a network error, a timeout or a 5xx answer. */
export interface RetryOptions {
  /** Tries after the first (default 3; 0 turns retries off). */
  retries?: number;
  /** The first pause's upper bound, in milliseconds (default 200); each later one doubles it. */
  baseDelayMs?: number;
  /** No pause is longer than this (default 5,000 ms), `Retry-After` included. */
  maxDelayMs?: number;
}

export interface RetryingFetchOptions {
  retry: Required<RetryOptions>;
  /** Milliseconds each try may take, answer body included. */
  timeoutMs: number;
  /** Whether a request may be sent again: it must not do its work twice. */
  retrySafe(request: Request): boolean;
  fetch: (input: Request, init?: RequestInit) => Promise<Response>;
  /** For tests: the pause before try `n + 1` (default: exponential with full jitter). */
  random?: () => number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { retries: 3, baseDelayMs: 200, maxDelayMs: 5_000 };

/** A status a later try may get past: the hub or a proxy in front of it failing or restarting. */
const retryableStatus = (status: number): boolean => status >= 500 && status <= 599;

/**
 * Full jitter (a random pause up to an exponentially growing bound): many
 * clients failing at once spread their retries instead of returning
 * together. `Retry-After` (seconds), when the hub sends one, is the floor.
 */
export function backoffMs(retry: Required<RetryOptions>, attempt: number, random: () => number, retryAfter?: string | null): number {
  const bound = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
  const jittered = Math.floor(random() * bound);
  const after = retryAfter && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : 0;
  return Math.min(retry.maxDelayMs, Math.max(jittered, after));
}

function sleep(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The caller's signal and this try's timeout as one signal (AbortSignal.any is not in every Node 20). */
function tryController(callerSignal: AbortSignal | null, timeoutMs: number): { signal: AbortSignal; timedOut(): boolean; done(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const onCallerAbort = () => controller.abort(callerSignal!.reason);
  if (callerSignal?.aborted) controller.abort(callerSignal.reason);
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new HookhubTimeoutError(timeoutMs, 1));
  }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}

/** How many tries an answer took, for the errors that report it. */
const triesOf = new WeakMap<Response, number>();
export const triesFor = (response: Response): number => triesOf.get(response) ?? 1;

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` that gives each try `timeoutMs` (until the whole answer body is
 * read) and sends a retry-safe request again after a network error, a timeout
 * or a 5xx answer, up to `retry.retries` more times with growing, jittered
 * pauses. The request is sent again unchanged: a publish keeps its event id,
 * so the hub stores it once however many tries reached it. The caller's
 * `AbortSignal` ends it at once, between tries too.
 */
export function retryingFetch(options: RetryingFetchOptions): (request: Request) => Promise<Response> {
  const random = options.random ?? Math.random;
  return async (request: Request): Promise<Response> => {
    const safe = options.retrySafe(request);
    const maxTries = safe ? 1 + options.retry.retries : 1;
    for (let attempt = 1; ; attempt++) {
      const t = tryController(request.signal, options.timeoutMs);
      let response: Response;
      try {
        // Each try sends a copy: a request's body can be read once.
        const sent = await options.fetch(request.clone(), { signal: t.signal });
        // Read the answer within this try's time, so a stalled body is a timeout that can be retried too.
        const body = NULL_BODY_STATUSES.has(sent.status) ? null : await sent.arrayBuffer();
        response = new Response(body, { status: sent.status, statusText: sent.statusText, headers: sent.headers });
      } catch (err) {
        const timedOut = t.timedOut();
        t.done();
        if (request.signal?.aborted) throw request.signal.reason;
        if (attempt >= maxTries) {
          if (timedOut) throw new HookhubTimeoutError(options.timeoutMs, attempt);
          const reason = (err as { cause?: { code?: string; message?: string } }).cause;
          const description = reason?.code ?? reason?.message ?? (err as Error).message;
          throw new HookhubNetworkError(`Hookhub could not be reached (${description}; ${attempt} ${attempt === 1 ? 'try' : 'tries'})`, attempt, err);
        }
        await sleep(backoffMs(options.retry, attempt - 1, random), request.signal);
        continue;
      }
      t.done();
      if (!retryableStatus(response.status) || attempt >= maxTries) {
        triesOf.set(response, attempt);
        return response;
      }
      await sleep(backoffMs(options.retry, attempt - 1, random, response.headers.get('retry-after')), request.signal);
    }
  };
}
