import { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Agent, errors, request } from 'undici';
import { checkWebhookUrl, HostResolver, isLoopbackAddress, isPublicAddress, UrlVerdict } from '@hookhub/url-safety';

export const RESPONSE_BODY_LIMIT = 4_096;
/** Reading past this many bytes to keep a connection reusable is not worth it. */
const DRAIN_LIMIT = 64 * 1024;
/** A deadline timer firing this much later than due means the event loop was stalled (SIGSTOP, a long GC pause, a blocking call). */
const STALL_THRESHOLD_MS = 50;
/** After a stall, how long pending I/O (an answer that arrived meanwhile) gets before the timeout is declared. */
const STALL_GRACE_MS = 100;

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SendResult {
  ok: boolean;
  status: number | null;
  headers: Record<string, string> | null;
  /** The first 4,096 bytes of the response body. */
  body: string | null;
  error: string | null;
  startedAt: Date;
  durationMs: number;
}

export interface SenderOptions {
  timeoutMs: number;
  allowInsecureTargets: boolean;
  connections: number;
  /** Replaces DNS in tests (e.g. a name that resolves differently at create and connect time). */
  resolver?: typeof dnsLookup;
  /** Promise-style alternative to `resolver` (the shape `checkWebhookDestination` takes); `resolver` wins if both are set. */
  hostResolver?: HostResolver;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export class UnsafeAddressError extends Error {
  constructor(address: string) {
    super(`refused to connect to non-public address ${address}`);
    this.name = 'UnsafeAddressError';
  }
}

/**
 * Sends webhooks with undici. The agent's DNS lookup refuses private and
 * loopback answers, so a name that passed the check when the subscription was
 * saved but now resolves inside the network (DNS rebinding) gets no request.
 * Redirects are never followed: a 3xx is a failed attempt.
 */
export class WebhookSender {
  private readonly agent: Agent;
  private readonly verdicts = new Map<string, UrlVerdict>();

  constructor(private readonly options: SenderOptions) {
    const resolve = options.resolver ?? (options.hostResolver ? callbackLookup(options.hostResolver) : dnsLookup);
    const allowed = (address: string): boolean => isPublicAddress(address) || (options.allowInsecureTargets && isLoopbackAddress(address));
    const guardedLookup = (hostname: string, opts: object, callback: LookupCallback): void => {
      resolve(hostname, { ...opts, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        const list = (Array.isArray(addresses) ? addresses : [{ address: String(addresses), family: 4 }]) as LookupAddress[];
        const bad = list.find((a) => !allowed(a.address));
        if (bad || list.length === 0) return callback(new UnsafeAddressError(bad?.address ?? hostname), []);
        const wantsAll = (opts as { all?: boolean }).all === true;
        if (wantsAll) callback(null, list);
        else callback(null, list[0].address, list[0].family);
      });
    };
    this.agent = new Agent({
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.timeoutMs, lookup: guardedLookup as never },
    });
  }

  /** The URL policy's verdict: a pure function of the URL, so it is kept (resolved addresses are checked at each connect). */
  private verdictFor(url: string): UrlVerdict {
    let verdict = this.verdicts.get(url);
    if (!verdict) {
      verdict = checkWebhookUrl(url, { allowInsecureTargets: this.options.allowInsecureTargets });
      if (this.verdicts.size >= 10_000) this.verdicts.clear();
      this.verdicts.set(url, verdict);
    }
    return verdict;
  }

  /** POSTs a webhook. Anything but a 2xx (including a redirect) is a failure. */
  send(req: OutgoingRequest): Promise<SendResult> {
    return this.perform('POST', req.url, req.headers, req.body);
  }

  /** A GET through the same guarded agent, timeouts and body capture (the verification handshake). */
  get(url: string, headers: Record<string, string>): Promise<SendResult> {
    return this.perform('GET', url, headers);
  }

  private async perform(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<SendResult> {
    const startedAt = new Date();
    const started = performance.now();
    const verdict = this.verdictFor(url);
    if (!verdict.ok) {
      return { ok: false, status: null, headers: null, body: null, error: `unsafe URL: ${verdict.reason}`, startedAt, durationMs: 0 };
    }
    // The whole attempt (connect, headers, body) within the timeout. undici takes an EventEmitter as
    // the abort signal; with a plain timer it costs far less than AbortSignal.timeout per request.
    const signal = Object.assign(new EventEmitter(), { aborted: false });
    const abort = (): void => {
      signal.aborted = true;
      signal.emit('abort');
    };
    const timeoutMs = this.options.timeoutMs;
    const armedAt = performance.now();
    // Timers run before I/O in each turn of the event loop: after a stall, the deadline would fire ahead
    // of reading an answer that arrived in time, and the attempt would be recorded as timed out. A timer
    // that fired late gives pending I/O a moment first.
    let deadline = setTimeout(() => {
      if (performance.now() - armedAt - timeoutMs > STALL_THRESHOLD_MS) deadline = setTimeout(abort, STALL_GRACE_MS);
      else abort();
    }, timeoutMs);
    try {
      const res = await request(verdict.url, {
        method,
        dispatcher: this.agent,
        headers,
        body,
        maxRedirections: 0,
        // The deadline above bounds headers and body; undici's own timers would fire ahead of pending I/O after a stall.
        headersTimeout: 0,
        bodyTimeout: 0,
        signal,
      } as Parameters<typeof request>[1]);
      const prefix = await readPrefix(res.body);
      const responseHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return {
        ok,
        status: res.statusCode,
        headers: responseHeaders,
        body: prefix,
        error: ok ? null : `endpoint answered ${res.statusCode}`,
        startedAt,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      return { ok: false, status: null, headers: null, body: null, error: describeError(err), startedAt, durationMs: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(deadline);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Adapts a promise-style resolver to the `dns.lookup` shape the agent's connect step expects. */
function callbackLookup(resolver: HostResolver): typeof dnsLookup {
  const lookup = (hostname: string, opts: unknown, callback?: LookupCallback): void => {
    const cb = (typeof opts === 'function' ? opts : callback) as LookupCallback;
    resolver(hostname).then(
      (addresses) =>
        cb(
          null,
          addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 })),
        ),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err)), []),
    );
  };
  return lookup as unknown as typeof dnsLookup;
}

/**
 * The first `RESPONSE_BODY_LIMIT` bytes of a response body as text (NUL
 * characters dropped: PostgreSQL text cannot hold them). Reading stops after
 * `DRAIN_LIMIT` bytes; up to there the body is drained so the connection can
 * be reused.
 */
function readPrefix(stream: NodeJS.ReadableStream & { destroy(): void }): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    const done = (): void => {
      stream.removeListener('data', onData);
      const text = Buffer.concat(chunks).toString('utf8');
      // PostgreSQL text cannot hold NUL.
      resolve(text.replaceAll('\u0000', ''));
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (kept < RESPONSE_BODY_LIMIT) {
        const part = chunk.subarray(0, RESPONSE_BODY_LIMIT - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (seen > DRAIN_LIMIT) {
        stream.destroy();
        done();
      }
    };
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', reject);
  });
}

function describeError(err: unknown): string {
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) return 'timed out';
  if (err instanceof errors.ConnectTimeoutError) return 'connect timed out';
  // AbortSignal.timeout rejects with a DOMException, which is not an Error subclass here.
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (cause instanceof UnsafeAddressError) return cause.message;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return String(err);
}
