/**
 * Property-based bad-input testing (issue #6): arbitraries for malformed HTTP
 * requests and the invariants every one of them must satisfy.
 *
 *  - never a 5xx;
 *  - every 4xx is an RFC 9457 problem document (application/problem+json with
 *    `type`, `title`, `status` equal to the HTTP status and `detail`);
 *  - requests built to be invalid get a 4xx, never a 2xx/3xx;
 *  - nothing changes: no row of any table, no message in the test prefix's
 *    JetStream streams, no key on the built-in prototypes (the apps run in the
 *    test process, so prototype pollution would show there).
 *
 * The arbitraries are generic (bodies, headers, queries, path segments, raw
 * HTTP/1.1 framing); a suite combines them with its own routes and fixtures.
 * Runs use a fixed seed per group (BAD_INPUT_SEED overrides the base) and
 * BAD_INPUT_RUNS scales every group's number of runs (BAD_INPUT_RUNS=10 for a
 * long hunt); fast-check prints the seed, the path and the shrunk request of
 * a failure. BAD_INPUT_DEBUG=1 prints every reply and request on stderr.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { Readable } from 'node:stream';
import { gzipSync, gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import { connect as natsConnect, JetStreamManager, NatsConnection } from 'nats';
import { Client } from 'pg';
import { Pool } from 'undici';

// type-is is what body-parser and the apps use to decide whether a body is JSON; asking it avoids guessing.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const typeis = require('type-is') as { is(mediaType: string, types: string[]): string | false };

/* ------------------------------------------------------------------ requests */

/** One generated request; `why` says what makes it invalid (or `noise:` when it may be valid). */
export interface BadRequest {
  method: string;
  /** Path and query exactly as sent: nothing is normalised or re-encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string | (() => AsyncIterable<Uint8Array>);
  why: string;
}

/** Makes fast-check print a request compactly (bodies can be hundreds of kilobytes). */
export function request(r: BadRequest): BadRequest {
  Object.defineProperty(r, fc.toStringMethod, { enumerable: false, value: () => describeRequest(r) });
  return r;
}

export function describeRequest(r: BadRequest): string {
  const body =
    r.body === undefined
      ? ''
      : typeof r.body === 'function'
        ? ' <streamed body>'
        : ` body(${typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length} bytes)=${JSON.stringify(preview(r.body))}`;
  const headers = Object.entries(r.headers).map(([k, v]) => `${k}: ${JSON.stringify(preview(v))}`);
  return `[${r.why}] ${r.method} ${preview(r.path)} {${headers.join(', ')}}${body}`;
}

function preview(v: string | Uint8Array, max = 300): string {
  const s = typeof v === 'string' ? v : Buffer.from(v).toString('latin1');
  return s.length > max ? `${s.slice(0, max)}…(+${s.length - max})` : s;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends requests without any client-side normalisation (undici), or as raw bytes on a socket. */
export class BadInputClient {
  private readonly pool: Pool;
  readonly host: string;
  readonly port: number;

  constructor(readonly origin: string) {
    const url = new URL(origin);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.pool = new Pool(origin, { connections: 4, headersTimeout: 20_000, bodyTimeout: 20_000 });
  }

  async send(req: BadRequest): Promise<HttpReply> {
    const body = typeof req.body === 'function' ? Readable.from(req.body()) : req.body;
    const res = await this.pool.request({ method: req.method, path: req.path, headers: req.headers, body });
    const buf = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body: buf };
  }

  /**
   * Writes bytes on a fresh connection and parses every response that comes
   * back before the server closes it (or `idleMs` pass without data).
   * `halfClose` ends the client's side after writing (a truncated request).
   */
  sendRaw(bytes: Buffer | string, options: { halfClose?: boolean; idleMs?: number } = {}): Promise<HttpReply[]> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(this.port, this.host);
      const chunks: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        try {
          resolve(parseResponses(Buffer.concat(chunks)));
        } catch (err) {
          reject(err);
        }
      };
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(finish, options.idleMs ?? 1_000);
      };
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        idle();
      });
      socket.on('error', () => undefined);
      socket.on('close', finish);
      socket.on('connect', () => {
        socket.write(bytes);
        if (options.halfClose) socket.end();
        idle();
      });
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Parses HTTP/1.1 responses as they came off the wire (Content-Length, chunked or until close). */
export function parseResponses(data: Buffer): HttpReply[] {
  const replies: HttpReply[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`incomplete response head: ${JSON.stringify(rest.toString('latin1').slice(0, 200))}`);
    const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let body: Buffer;
    rest = rest.subarray(end + 4);
    if (Number(m[1]) < 200) continue; // 100 Continue and other interim responses have no body
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
        rest = rest.subarray(lineEnd + 2);
        if (!size) {
          rest = rest.subarray(rest.indexOf('\r\n') + 2);
          break;
        }
        parts.push(rest.subarray(0, size));
        rest = rest.subarray(size + 2);
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = rest.subarray(0, n);
      rest = rest.subarray(n);
    } else {
      body = rest;
      rest = Buffer.alloc(0);
    }
    replies.push({ status: Number(m[1]), headers, body });
  }
  return replies;
}

/* ---------------------------------------------------------------- invariants */

function header(reply: HttpReply, name: string): string | undefined {
  const v = reply.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** What is wrong with a reply to a request that must be refused (an empty list when all is well). */
export function problemViolations(method: string, reply: HttpReply, options: { allowSuccess?: boolean } = {}): string[] {
  const errors: string[] = [];
  if (reply.status >= 500) errors.push(`server error ${reply.status}`);
  else if (reply.status < 400 && !options.allowSuccess) errors.push(`not refused: ${reply.status}`);
  if (reply.status < 400) return errors;
  const type = header(reply, 'content-type') ?? '';
  if (!/^application\/problem\+json\s*(;|$)/i.test(type)) errors.push(`content-type is ${JSON.stringify(type)}, not application/problem+json`);
  if (method === 'HEAD') return errors;
  let doc: unknown;
  try {
    doc = JSON.parse(reply.body.toString('utf8'));
  } catch {
    return [...errors, `body is not JSON: ${JSON.stringify(preview(reply.body))}`];
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return [...errors, 'problem document is not an object'];
  const p = doc as Record<string, unknown>;
  if (typeof p.type !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(p.type)) errors.push(`type ${JSON.stringify(p.type)} is not a URI`);
  if (typeof p.title !== 'string' || p.title === '') errors.push(`title ${JSON.stringify(p.title)}`);
  if (p.status !== reply.status) errors.push(`status member ${JSON.stringify(p.status)} differs from ${reply.status}`);
  if (typeof p.detail !== 'string') errors.push(`detail ${JSON.stringify(p.detail)}`);
  if (p.instance !== undefined && typeof p.instance !== 'string') errors.push(`instance ${JSON.stringify(p.instance)}`);
  return errors;
}

/** Throws unless the reply refuses the request with a 4xx problem document (and, when given, one of `statuses`). */
export function expectRefused(req: BadRequest, reply: HttpReply, statuses?: readonly number[]): void {
  const errors = problemViolations(req.method, reply);
  if (statuses && !statuses.includes(reply.status)) errors.push(`status ${reply.status}, expected one of ${statuses.join(', ')}`);
  if (errors.length) throw new Error(`${errors.join('; ')}\n  reply: ${reply.status} ${preview(reply.body)}\n  request: ${describeRequest(req)}`);
}

/** Throws on a 5xx, or on a 4xx that is not a problem document; a success is allowed (for noise that may be valid). */
export function expectNoServerError(req: BadRequest, reply: HttpReply): void {
  const errors = problemViolations(req.method, reply, { allowSuccess: true });
  if (errors.length) throw new Error(`${errors.join('; ')}\n  reply: ${reply.status} ${preview(reply.body)}\n  request: ${describeRequest(req)}`);
}

export interface WorldState {
  tables: Record<string, string>;
  streams: Record<string, string>;
  prototypes: string;
  /** Whatever else the suite watches (say, requests a test receiver got). */
  extra: string;
}

/**
 * Fingerprints everything a request could change: every table of the test
 * database (row count and an md5 of all rows), every JetStream stream of the
 * test prefix (message count and last sequence) and the built-in prototypes.
 */
export class SideEffectProbe {
  private jsm?: JetStreamManager;

  private constructor(
    private readonly db: Client,
    private readonly nc: NatsConnection,
    private readonly streamPrefix: string,
    private readonly query: string,
    private readonly extra: () => string,
  ) {}

  static async open(
    target: { databaseUrl: string; natsUrl: string; prefix: string },
    options: { ignoreTables?: string[]; extra?: () => string } = {},
  ): Promise<SideEffectProbe> {
    const db = new Client({ connectionString: target.databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    const tables = rows.map((r) => r.name).filter((t) => !options.ignoreTables?.includes(t));
    if (tables.length === 0) throw new Error('no tables to watch: run the migrations first');
    const query = tables
      .map((t) => `SELECT '${t}' AS name, count(*)::text || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS sum FROM "${t}" x`)
      .join(' UNION ALL ');
    const nc = await natsConnect({ servers: target.natsUrl });
    return new SideEffectProbe(db, nc, `${target.prefix.toUpperCase()}_`, query, options.extra ?? (() => ''));
  }

  async capture(): Promise<WorldState> {
    const streams: Record<string, string> = {};
    const listStreams = async () => {
      this.jsm ??= await this.nc.jetstreamManager();
      for await (const info of this.jsm.streams.list()) {
        if (info.config.name.startsWith(this.streamPrefix)) streams[info.config.name] = `${info.state.messages} messages, last seq ${info.state.last_seq}`;
      }
    };
    const [{ rows }] = await Promise.all([this.db.query<{ name: string; sum: string }>(this.query), listStreams()]);
    return { tables: Object.fromEntries(rows.map((r) => [r.name, r.sum])), streams, prototypes: prototypeFingerprint(), extra: this.extra() };
  }

  /** Throws, naming what changed, unless the world is as `before`. */
  async expectUnchanged(before: WorldState, context = ''): Promise<void> {
    const after = await this.capture();
    const changed: string[] = [];
    for (const [t, sum] of Object.entries(before.tables)) if (after.tables[t] !== sum) changed.push(`table ${t}: ${sum} → ${after.tables[t]}`);
    const names = new Set([...Object.keys(before.streams), ...Object.keys(after.streams)]);
    for (const s of names) if (before.streams[s] !== after.streams[s]) changed.push(`stream ${s}: ${before.streams[s]} → ${after.streams[s]}`);
    if (before.prototypes !== after.prototypes) changed.push(`built-in prototypes: ${before.prototypes} → ${after.prototypes}`);
    if (before.extra !== after.extra) changed.push(`${before.extra} → ${after.extra}`);
    if (changed.length) throw new Error(`side effect${context ? ` of ${context}` : ''}: ${changed.join('; ')}`);
  }

  async close(): Promise<void> {
    await this.db.end();
    await this.nc.close();
  }
}

function prototypeFingerprint(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((p) => Reflect.ownKeys(p).map(String).sort().join(','))
    .join('|');
}

/* ------------------------------------------------------------------ running */

/** fast-check parameters of one group: a fixed seed per group (BAD_INPUT_SEED changes the base), runs scaled by BAD_INPUT_RUNS. */
export function runParameters(group: string, numRuns: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const base = Number(process.env.BAD_INPUT_SEED ?? 20261123);
  const salt = createHash('sha256').update(group).digest().readUInt32BE(0);
  return { seed: (base ^ salt) | 0, numRuns: Math.max(1, Math.round(numRuns * Number(process.env.BAD_INPUT_RUNS ?? 1))), endOnFailure: false };
}

export interface BadInputContext {
  client: BadInputClient;
  probe: SideEffectProbe;
  /** The world every request is compared with; taken again after a group that changed it, so later groups stay meaningful. */
  baseline: WorldState;
}

/**
 * A side effect outlives the request that caused it, so every later run (and
 * every shrink) would fail too: the first culprit is remembered and reported.
 */
export class SideEffectWatch {
  private culprit?: Error;

  constructor(private readonly ctx: BadInputContext) {}

  async check(context: string): Promise<void> {
    if (this.culprit) throw this.culprit;
    try {
      await this.ctx.probe.expectUnchanged(this.ctx.baseline, context);
    } catch (err) {
      this.culprit = new Error(`${(err as Error).message}\n  (the first request that changed something; the counterexample above may be a later one)`);
      throw this.culprit;
    }
  }

  /** After a failed group: accept the world as it is now. */
  async rebaseline(): Promise<void> {
    if (this.culprit) this.ctx.baseline = await this.ctx.probe.capture();
  }
}

/** Requests sent by a group and the statuses they got (`none` for a raw request the server closed without answering). */
export interface GroupReport {
  sent: number;
  statuses: Record<string, number>;
}

export function formatReport(report: GroupReport): string {
  return `${report.sent} (${Object.entries(report.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}×${n}`)
    .join(' ')})`;
}

/**
 * Runs one group: every generated request is sent, its reply checked with
 * `check` (default: must be refused), and the world must stay unchanged.
 */
export async function assertEveryRequest(
  group: string,
  numRuns: number,
  arb: fc.Arbitrary<BadRequest>,
  ctx: BadInputContext,
  check: (req: BadRequest, reply: HttpReply) => void = (req, reply) => expectRefused(req, reply),
): Promise<GroupReport> {
  const report: GroupReport = { sent: 0, statuses: {} };
  const watch = new SideEffectWatch(ctx);
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (req) => {
        report.sent++;
        let reply: HttpReply;
        try {
          reply = await ctx.client.send(req);
        } catch (err) {
          throw new Error(`no reply (${(err as Error).message})\n  request: ${describeRequest(req)}`);
        }
        report.statuses[reply.status] = (report.statuses[reply.status] ?? 0) + 1;
        if (process.env.BAD_INPUT_DEBUG) process.stderr.write(`${reply.status} ${preview(reply.body, 200)}\n    ${describeRequest(req).slice(0, 400)}\n`);
        try {
          check(req, reply);
        } finally {
          await watch.check(describeRequest(req));
        }
      }),
      runParameters(group, numRuns),
    );
  } finally {
    await watch.rebaseline();
  }
  return report;
}

/** The same for raw HTTP/1.1 attacks: each is written on its own connection and every reply must refuse it. */
export async function assertEveryRawRequest(group: string, numRuns: number, arb: fc.Arbitrary<RawAttack>, ctx: BadInputContext): Promise<GroupReport> {
  const report: GroupReport = { sent: 0, statuses: {} };
  const watch = new SideEffectWatch(ctx);
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (attack) => {
        report.sent++;
        const replies = await ctx.client.sendRaw(attack.bytes, { halfClose: attack.truncated, idleMs: 500 });
        for (const key of replies.length ? replies.map((r) => String(r.status)) : ['none']) report.statuses[key] = (report.statuses[key] ?? 0) + 1;
        try {
          expectRawRefused(attack, replies);
        } finally {
          await watch.check(attack.why);
        }
      }),
      runParameters(group, numRuns),
    );
  } finally {
    await watch.rebaseline();
  }
  return report;
}

/* ------------------------------------------------------------- arbitraries */

/** Strings that injection scanners and parsers tend to choke on. */
export const INJECTION_STRINGS = [
  "' OR '1'='1",
  "'; DROP TABLE tenants; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5)--',
  "') OR 1=1--",
  '1 UNION SELECT NULL,NULL--',
  '$where',
  '{"$gt":""}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}',
  '${7*7}',
  '#{7*7}',
  '${jndi:ldap://127.0.0.1/a}',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '%2e%2e%2f',
  '\u0000',
  'a\u0000b',
  '\r\nX-Injected: 1',
  '%s%s%s%n',
  '`id`',
  '$(id)',
  '|| ls',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '9'.repeat(400),
  'toString',
  'hasOwnProperty',
  'valueOf',
  '\uFEFF',
  '\u202E',
  '\u2028\u2029',
  '\uD800',
  '\uDFFF',
  '😀',
  'ﷺ',
  'ǅ',
  '\u0085',
  '\u00a0',
  ' ',
  '',
];

export const injectionString = fc.constantFrom(...INJECTION_STRINGS);

/** `unit` repeated to a length between min and max (fast, even for hundreds of kilobytes). */
export function hugeString(min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min, max }))
    .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n))
    .filter((s) => s.length >= min);
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const controlChar = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));

/** Any string worth sending: injections, control characters, lone surrogates, astral characters, long ones. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: injectionString },
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.oneof(loneSurrogate, controlChar, fc.constantFrom('\\', '"', '%', '/', '?', '#', '&', '=', '+')), maxLength: 12 }) },
  { weight: 1, arbitrary: hugeString(1_000, 12_000) },
);

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a value holds a key the apps refuse in any JSON body (see STRIPPED_KEYS). */
export function hasReservedKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasReservedKey);
  return isPlainObject(v) && Object.entries(v).some(([k, x]) => STRIPPED_KEYS.includes(k) || hasReservedKey(x));
}

/**
 * Any JSON value (maxDepth keeps it cheap); nested keys are random strings,
 * but not the reserved ones fast-check likes to produce: those are refused
 * before validation, and the point of a nested value is to reach it.
 */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 }).filter((v) => !hasReservedKey(v));

/**
 * Keys that do not make a query string invalid: the validation pipe deletes
 * the first three, and class-transformer skips keys naming an inherited
 * method, so forbidNonWhitelisted never sees them (in JSON bodies the apps
 * refuse them outright). Never produced by unknownKey.
 */
export const STRIPPED_KEYS = ['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)];

/** Field names that are in none of `known` (nor stripped by the validation pipe). */
export function unknownKey(known: readonly string[]): fc.Arbitrary<string> {
  return fc
    .oneof(fc.string({ maxLength: 20 }), injectionString, fc.constantFrom('id', 'tenant_id', 'admin', 'roles ', 'Name', 'URL', 'state', 'x'.repeat(300)))
    .filter((k) => !known.includes(k) && !STRIPPED_KEYS.includes(k));
}

/** A JSON value of the wrong type for a field, never null (null means "absent" to optional fields). */
export const notAString = anyJson.filter((v) => typeof v !== 'string' && v !== null);
export const notAnArray = anyJson.filter((v) => !Array.isArray(v) && v !== null);
export const notAnObject = anyJson.filter((v) => !isPlainObject(v) && v !== null);
export const notABoolean = anyJson.filter((v) => typeof v !== 'boolean' && v !== null);
export function notAnIntegerIn(min: number, max: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    anyJson.filter((v) => typeof v !== 'number' && v !== null),
    fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d) || d < min || d > max),
    fc.oneof(fc.integer({ min: -(2 ** 31), max: min - 1 }), fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER })),
    fc.constantFrom(String(min), String(max), '1', '1e3', '0x10'),
  );
}
/** Strings failing `valid`, or values that are not strings. */
export function invalidString(valid: (s: string) => boolean, extra: fc.Arbitrary<string>[] = []): fc.Arbitrary<unknown> {
  return fc.oneof(notAString, fc.oneof(nastyString, ...extra).filter((s) => !valid(s)));
}

/** JSON text nested `depth` levels deep: arrays, objects or both. */
export function deepJson(minDepth: number, maxDepth: number): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min: minDepth, max: maxDepth }), fc.constantFrom('array', 'object', 'mixed')).map(([depth, kind]) => {
    const open = kind === 'array' ? '[' : kind === 'object' ? '{"a":' : '[{"a":';
    const close = kind === 'array' ? ']' : kind === 'object' ? '}' : '}]';
    const levels = kind === 'mixed' ? Math.ceil(depth / 2) : depth;
    return open.repeat(levels) + '1' + close.repeat(levels);
  });
}

/** True when body-parser's strict JSON parser accepts the text (an object or array, maybe after a BOM). */
export function parsesAsJsonBody(text: string): boolean {
  const t = text.replace(/^\uFEFF/, '');
  if (t.length === 0) return true; // an empty body counts as {}
  if (!/^[\x20\x09\x0a\x0d]*[{[]/.test(t)) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

const CORRUPTIONS: Array<[string, (s: string, at: number, junk: string) => string]> = [
  ['truncated', (s, at) => s.slice(0, Math.max(1, at % Math.max(1, s.length)))],
  ['junk inserted', (s, at, junk) => s.slice(0, at % (s.length + 1)) + junk + s.slice(at % (s.length + 1))],
  ['char replaced', (s, at, junk) => s.slice(0, at % s.length) + (junk || '}') + s.slice((at % s.length) + 1)],
  ['trailing junk', (s, _, junk) => s + (junk || ',')],
  ['second document', (s) => `${s}${s}`],
  ['single quotes', (s) => s.replace(/"/g, "'")],
  ['trailing comma', (s) => s.replace(/([}\]])$/, ',$1')],
  ['comment', (s) => `/* hi */${s}`],
  ['unquoted keys', (s) => s.replace(/"([^"\\]*)":/g, '$1:')],
  ['NaN', (s) => s.replace(/\d+(\.\d+)?/, 'NaN')],
  ['raw newline in string', (s) => s.replace(/"/, '"\n')],
  ['bad escape', (s) => s.replace(/"/, '"\\x')],
  ['short unicode escape', (s) => s.replace(/"/, '"\\u12')],
  ['unterminated', (s) => `${s}"`],
];

/** Text that body-parser refuses as JSON: corrupted documents, primitives at the top, prose, whitespace. */
export const malformedJson: fc.Arbitrary<{ text: string; why: string }> = fc
  .oneof(
    { weight: 6, arbitrary: fc.tuple(fc.oneof(anyJson.filter((v) => typeof v === 'object' && v !== null), fc.constant({ name: 'x' })), fc.nat(), fc.string({ maxLength: 4 }), fc.integer({ min: 0, max: CORRUPTIONS.length - 1 })).map(([v, at, junk, i]) => ({ text: CORRUPTIONS[i][1](JSON.stringify(v), at, junk), why: `malformed JSON (${CORRUPTIONS[i][0]})` })) },
    { weight: 2, arbitrary: anyJson.filter((v) => typeof v !== 'object' || v === null).map((v) => ({ text: JSON.stringify(v), why: 'JSON primitive at top level' })) },
    { weight: 2, arbitrary: nastyString.map((text) => ({ text, why: 'not JSON at all' })) },
    { weight: 1, arbitrary: fc.constantFrom(' ', '\n', '\t\r\n ', 'null', 'true', '"{}"', '{', '[', '}', ']', '{]', '[}', '{"a"}', '{"a":}', '{,}', '[,]', '[1,,2]', '{"a":1,}', "{'a':1}", '{"a":01}', '{"a":.5}', '{"a":+1}', '{"a":0x10}', '{"a":Infinity}', '{"a":undefined}', '<xml/>', 'a=1&b=2', '--boundary\r\n').map((text) => ({ text, why: 'malformed JSON (classic)' })) },
  )
  .filter(({ text }) => !parsesAsJsonBody(text));

/** Invalid UTF-8 byte sequences (overlong, surrogates, beyond U+10FFFF, truncated, stray continuation bytes). */
export const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

/**
 * `json` (a valid document) with invalid UTF-8 bytes put inside one of its
 * string literals, so only the encoding is wrong.
 */
export function withInvalidUtf8(json: string): fc.Arbitrary<Uint8Array> {
  const bytes = Buffer.from(json, 'utf8');
  const insideStrings: number[] = [];
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x22 && bytes[i - 1] !== 0x5c) {
      inString = !inString;
      if (inString) insideStrings.push(i + 1);
    }
  }
  const positions = insideStrings.length ? insideStrings : [bytes.length];
  return fc
    .tuple(fc.constantFrom(...positions), fc.array(fc.constantFrom(...INVALID_UTF8), { minLength: 1, maxLength: 3 }))
    .map(([at, seqs]) => Buffer.concat([bytes.subarray(0, at), Buffer.from(seqs.flat()), bytes.subarray(at)]))
    .filter((b) => !isUtf8(b));
}

export const JSON_TYPES = ['application/json', 'application/*+json'];

/** Content-Type values that are not JSON to type-is (hence to body-parser and the apps). */
export const nonJsonContentType: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      'text/plain',
      'text/plain; charset=utf-8',
      'text/json',
      'text/html',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/xml',
      'application/octet-stream',
      'application/jsonp',
      'application/json-patch',
      'application/javascript',
      'application/x-json',
      'application/json5',
      'application/jsonx',
      'image/png',
      'json',
      'application',
      'application/',
      '/json',
      '*/*',
      'application/*',
      ';',
      ',',
      'application/json, text/plain',
      'application/json;;',
      'application/json; charset',
      'application/json; charset=',
      'application/json; =utf-8',
      'application/json; charset="utf-8',
      'app lication/json',
    ),
    fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  )
  .filter((ct) => ct.trim() !== '' && !typeis.is(ct, JSON_TYPES));

/** JSON content types whose charset body-parser refuses (415). */
export const unsupportedJsonCharset: fc.Arbitrary<string> = fc
  .constantFrom('latin1', 'iso-8859-1', 'us-ascii', 'ascii', 'windows-1252', 'utf-8x', 'utf-9', 'utf-0', 'utf-', 'utf-8-bogus', 'ebcdic', 'binary', 'base64', 'koi8-r', 'shift_jis', 'x-unknown')
  .map((cs) => `application/json; charset=${cs}`);

/** Content-Encoding values body-parser cannot decode. */
export const unknownContentEncoding: fc.Arbitrary<string> = fc
  .oneof(fc.constantFrom('foo', 'compress', 'x-compress', 'gzip2', 'pack200-gzip', 'exi', 'aes128gcm', '*', 'gzip, foo', 'chunked'), fc.string({ unit: fc.integer({ min: 0x61, max: 0x7a }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 10 }))
  .filter((e) => !['identity', 'gzip', 'deflate', 'br', 'zstd', 'x-gzip'].includes(e.toLowerCase()));

/** Bytes that claim to be compressed but are not. */
export const corruptCompressedBody: fc.Arbitrary<{ encoding: string; body: Uint8Array }> = fc
  .tuple(fc.constantFrom('gzip', 'deflate', 'br'), fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.constant(new Uint8Array(Buffer.from('{"name":"x"}')))))
  .map(([encoding, body]) => ({ encoding, body }))
  .filter(({ encoding, body }) => {
    try {
      const out = encoding === 'gzip' ? gunzipSync(body) : encoding === 'deflate' ? inflateSync(body) : brotliDecompressSync(body);
      return !parsesAsJsonBody(out.toString('utf8'));
    } catch {
      return true;
    }
  });

/** A valid JSON object of `size` bytes (padding in one string field). */
export function jsonOfSize(size: number, field = 'padding'): string {
  const shell = JSON.stringify({ [field]: '' });
  return JSON.stringify({ [field]: 'x'.repeat(Math.max(0, size - shell.length)) });
}

/** A well-formed JSON body over `limitBytes`: sent whole, streamed (chunked) or gzip-compressed (a small bomb). */
export interface BodyAttack {
  headers: Record<string, string>;
  body: BadRequest['body'];
  why: string;
}

export function oversizedBody(limitBytes: number): fc.Arbitrary<BodyAttack> {
  return fc.tuple(fc.integer({ min: limitBytes + 1, max: limitBytes + 200_000 }), fc.constantFrom('whole', 'chunked', 'gzip')).map(([size, how]): BodyAttack => {
    const text = jsonOfSize(size);
    if (how === 'gzip') return { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: new Uint8Array(gzipSync(text)), why: `gzip bomb inflating to ${size} bytes` };
    if (how === 'chunked') {
      const buf = Buffer.from(text);
      return {
        headers: { 'content-type': 'application/json' },
        body: () =>
          (async function* () {
            for (let i = 0; i < buf.length; i += 65_536) yield buf.subarray(i, i + 65_536);
          })(),
        why: `chunked body of ${size} bytes`,
      };
    }
    return { headers: { 'content-type': 'application/json' }, body: text, why: `body of ${size} bytes` };
  });
}

/**
 * A body that must be refused before any route sees it: malformed JSON,
 * invalid UTF-8, U+0000, a key the validation pipe would drop, a non-JSON type (unless `requireJson: false`), an
 * unsupported charset or encoding, corrupt compression, nesting too deep, or
 * too large. `validJson` is a document the route would accept, used where
 * only the framing is wrong.
 */
export function brokenBody(validJson: string, limitBytes: number, options: { maxDepth?: number; requireJson?: boolean } = {}): fc.Arbitrary<BodyAttack> {
  const json = { 'content-type': 'application/json' };
  const w = (weight: number, arbitrary: fc.Arbitrary<BodyAttack>) => ({ weight, arbitrary });
  // Apps that take any body (requireJson: false) ignore bodies that are not JSON: those are no attack there.
  const notJson =
    options.requireJson === false
      ? []
      : [
          w(2, fc.tuple(nonJsonContentType, fc.oneof(fc.constant(validJson), nastyString.filter((s) => s.length > 0))).map(([ct, body]) => ({ headers: { 'content-type': ct }, body, why: 'not a JSON content type' }))),
          w(1, fc.constant(validJson).map((body) => ({ headers: {}, body, why: 'no content type' }))),
        ];
  return fc.oneof(
    w(4, fc.tuple(malformedJson, fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/merge-patch+json', 'APPLICATION/JSON')).map(([m, ct]) => ({ headers: { 'content-type': ct }, body: m.text, why: m.why }))),
    w(2, withInvalidUtf8(validJson).map((body) => ({ headers: json, body, why: 'invalid UTF-8 in a string' }))),
    ...notJson,
    w(1, unsupportedJsonCharset.map((ct) => ({ headers: { 'content-type': ct }, body: validJson, why: 'unsupported charset' }))),
    w(1, unknownContentEncoding.map((e) => ({ headers: { ...json, 'content-encoding': e }, body: validJson, why: 'unknown content encoding' }))),
    w(1, corruptCompressedBody.map(({ encoding, body }) => ({ headers: { ...json, 'content-encoding': encoding }, body, why: 'corrupt compressed body' }))),
    w(1, deepJson((options.maxDepth ?? 64) + 1, 20_000).map((body) => ({ headers: json, body, why: 'nested too deep' }))),
    w(1, fc.tuple(fc.constantFrom(...STRIPPED_KEYS), fc.boolean(), anyJson.map((x) => JSON.stringify(x))).map(([k, nested, v]) => ({ headers: json, body: nested ? `{"a":[{${JSON.stringify(k)}:${v}}]}` : `{${JSON.stringify(k)}:${v}}`, why: `reserved key ${k}` }))),
    w(1, fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), fc.boolean()).map(([a, b, inKey]) => ({ headers: json, body: JSON.stringify(inKey ? { [`${a}\u0000${b}`]: 1 } : { nul: `${a}\u0000${b}` }), why: 'U+0000 in the JSON' }))),
    w(1, oversizedBody(limitBytes)),
  );
}

/** Authorization values that authenticate nobody (given the valid tokens, which are mutated but never reproduced). */
export function badAuthorization(validTokens: readonly string[]): fc.Arbitrary<string | undefined> {
  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 60 });
  const mutated = fc.tuple(fc.constantFrom(...validTokens), fc.nat(), fc.constantFrom('truncate', 'flip', 'append', 'prepend', 'case')).map(([t, at, how]) => {
    const i = at % t.length;
    switch (how) {
      case 'truncate':
        return t.slice(0, i);
      case 'flip':
        return t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
      case 'append':
        return `${t}x`;
      case 'prepend':
        return `x${t}`;
      default:
        return t.slice(0, i) + (t[i] === t[i].toUpperCase() ? t[i].toLowerCase() : t[i].toUpperCase()) + t.slice(i + 1);
    }
  });
  return fc
    .oneof(
      fc.constant(undefined),
      fc.constantFrom('', 'Bearer', 'Bearer ', 'bearer', 'Basic dXNlcjpwYXNz', 'Token abc', 'Bearer hh_', 'Bearer null', 'Bearer undefined', 'Bearer "hh_x"', 'Bearer a b', 'Bearer\u00a0hh_x'),
      printable.map((s) => `Bearer ${s}`),
      printable.map((s) => `Bearer hh_${s}`),
      mutated.filter((t) => t.trim() !== '').map((t) => `Bearer ${t}`),
      fc.constantFrom(...validTokens).map((t) => `Basic ${t}`),
      fc.constantFrom(...validTokens).map((t) => `Bearer ${t} ${t}`),
      fc.constantFrom(...validTokens).map((t) => t),
      hugeString(9_000, 30_000).map((s) => `Bearer hh_${s.replace(/[^\x21-\x7e]/g, 'a')}`),
    )
    .filter((h) => h === undefined || !validTokens.includes(/^Bearer\s+(\S+)\s*$/i.exec(h.trim())?.[1] ?? ''));
}

/** Accept values, none of which may change how an error is reported. */
export const oddAccept: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('text/html', 'application/xml', '*/*', 'application/json', 'application/problem+json', 'text/plain;q=0', 'application/json;q=0, */*;q=0', 'garbage', ';;;', 'image/png', 'text/event-stream', '*', 'application/*+json;q=1.5', ''),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
);

const HEADER_TOKEN = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_!#$%&\'*+.^`|~'.split('')), minLength: 1, maxLength: 20 });
const RESERVED_HEADERS = ['content-type', 'content-length', 'transfer-encoding', 'authorization', 'host', 'connection', 'expect', 'upgrade', 'content-encoding', 'keep-alive', 'te', 'trailer', 'proxy-connection', 'http2-settings'];

/** Extra headers that never make a request valid or invalid: forwarding, cookies, overrides, junk. */
export const noiseHeaders: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.oneof(
    fc.constantFrom('x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'x-http-method-override', 'x-method-override', 'cookie', 'origin', 'referer', 'user-agent', 'if-none-match', 'if-match', 'range', 'x-request-id', 'accept-language', 'accept-encoding', 'accept-charset', 'forwarded', 'x-original-url', 'x-rewrite-url', 'x-api-key', 'x-admin-token'),
    HEADER_TOKEN,
  ).filter((h) => !RESERVED_HEADERS.includes(h)),
  fc.oneof(injectionString, fc.string({ maxLength: 40 }), fc.constantFrom('DELETE', 'PATCH', 'PUT', '/v1/tenants', 'bytes=0-1,1-2', '127.0.0.1, 10.0.0.1'))
    .map((v) => v.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim()),
  { maxKeys: 4 },
);

/** The query parser of the apps (Express 5 "simple"): what a query string means to them. */
export function parsedQuery(query: string): Record<string, string | string[]> {
  return parseQuery(query) as Record<string, string | string[]>;
}

export interface QueryParamSpec {
  name: string;
  /** Whether one occurrence of the parameter with this (decoded) value passes validation. */
  valid(value: string): boolean;
}

/** Whether a list route whose query parameters are `params` would accept the query. */
export function isValidQuery(query: string, params: readonly QueryParamSpec[]): boolean {
  const parsed = parsedQuery(query);
  return Object.entries(parsed).every(([k, v]) => {
    if (STRIPPED_KEYS.includes(k)) return true;
    const spec = params.find((p) => p.name === k);
    return spec !== undefined && typeof v === 'string' && spec.valid(v);
  });
}

const percentJunk = fc.constantFrom('%', '%G0', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '%%', '%2', '%u0041', '+', '%20', '%00', '%0D%0A', '%26', '%3D');

function queryValue(spec: QueryParamSpec | undefined): fc.Arbitrary<string> {
  const candidates = fc.oneof(nastyString, fc.constantFrom('0', '-1', '201', '1.5', '1e2', '', ' 5', '0x10', 'true', '[]', '{}', 'ACTIVE', 'active ', 'ticket.*', 'ticket.created.x', '2020-13-01', '2020-02-30T00:00:00Z', '2020-W01-1', '2026-W47-7T10:00:00Z', '+2020-01-01', 'yesterday', '00000000-0000-0000-0000-00000000000g'));
  return spec ? candidates.filter((v) => !spec.valid(v)) : candidates;
}

function encodeQueryPart(s: string, how: 'encoded' | 'raw' | 'junk', junk: string): string {
  if (how === 'encoded') return pct(s);
  // raw: only what undici can carry and what does not split the query
  const raw = s.replace(/[^\x21-\x7e]|[&#=]/g, (c) => pct(c));
  return how === 'raw' ? raw : `${raw}${junk}`;
}

/**
 * A query string the route refuses: a known parameter with an invalid value,
 * an unknown parameter, or a repeated one, among other parameters; encoded,
 * raw or with broken percent-escapes. Checked against the parser the apps use.
 */
export function invalidQuery(params: readonly QueryParamSpec[]): fc.Arbitrary<string> {
  const known = params.map((p) => p.name);
  const entry = (spec: QueryParamSpec | undefined, name: fc.Arbitrary<string>) =>
    fc.tuple(name, queryValue(spec), fc.constantFrom<'encoded' | 'raw' | 'junk'>('encoded', 'encoded', 'raw', 'junk'), percentJunk);
  const badKnown = params.length ? fc.constantFrom(...params).chain((p) => entry(p, fc.constant(p.name))) : undefined;
  const unknown = entry(undefined, unknownKey(known).filter((k) => k.length <= 200));
  const culprit = badKnown ? fc.oneof(badKnown, unknown) : unknown;
  const repeated = params.length
    ? fc.constantFrom(...params).chain((p) => fc.tuple(fc.constant(p.name), fc.array(fc.string({ maxLength: 8 }), { minLength: 2, maxLength: 4 })))
    : undefined;
  const any = fc.oneof(entry(undefined, fc.oneof(fc.constantFrom(...(known.length ? known : ['x'])), unknownKey(known))), unknown);
  const build = fc.tuple(fc.oneof(...(repeated ? [culprit, repeated] : [culprit])), fc.array(any, { maxLength: 4 }), fc.nat()).map(([c, others, at]) => {
    const render = ([k, v, how, junk]: [string, string, 'encoded' | 'raw' | 'junk', string]) => `${encodeQueryPart(k, how === 'junk' ? 'raw' : how, '')}=${encodeQueryPart(v, how, junk)}`;
    const first = typeof c[1] === 'string' ? [render(c as [string, string, 'encoded' | 'raw' | 'junk', string])] : (c[1] as string[]).map((v) => `${pct(c[0])}=${pct(v)}`);
    const rest = others.map(render);
    const parts = [...rest];
    parts.splice(at % (rest.length + 1), 0, ...first);
    return parts.join('&');
  });
  return build.filter((q) => !isValidQuery(q, params));
}

/** Any query string (valid by chance or not) for routes where a success is acceptable. */
export function anyQuery(params: readonly QueryParamSpec[]): fc.Arbitrary<string> {
  const known = params.map((p) => p.name);
  return fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...(known.length ? known : ['x'])), unknownKey(known)), fc.oneof(queryValue(undefined), fc.string({ maxLength: 10 })), fc.constantFrom<'encoded' | 'raw' | 'junk'>('encoded', 'raw', 'junk'), percentJunk), { maxLength: 5 })
    .map((entries) => entries.map(([k, v, how, junk]) => `${encodeQueryPart(k, 'encoded', '')}=${encodeQueryPart(v, how, junk)}`).join('&'));
}

/** encodeURIComponent that also takes lone surrogates (as U+FFFD, which is what UTF-8 encoders send). */
export function pct(s: string): string {
  return encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

/** decodeURIComponent, or undefined where it throws (Express answers 400 to those). */
export function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * A path segment that names no existing resource: random UUIDs, near-UUIDs,
 * injections, broken percent-escapes, dot segments, very long ones. It never
 * contains a raw '/', '?' or '#' (which would route elsewhere) and never
 * decodes to one of `existing` (compared case-insensitively).
 */
export function badIdSegment(existing: readonly string[]): fc.Arbitrary<string> {
  const known = existing.map((e) => e.toLowerCase());
  const uuidLike = fc.tuple(fc.uuid(), fc.nat(), fc.constantFrom('g', 'G', '-', '', 'ab', '{', '}', ' ')).map(([u, at, c]) => u.slice(0, at % 36) + c + u.slice((at % 36) + 1));
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
      { weight: 2, arbitrary: uuidLike.map((x) => pct(x)) },
      { weight: 1, arbitrary: fc.uuid().map((u) => pct(`{${u}}`)) },
      { weight: 1, arbitrary: fc.uuid().map((u) => `urn:uuid:${u}`) },
      { weight: 1, arbitrary: fc.uuid().map((u) => u.replace(/-/g, '')) },
      { weight: 3, arbitrary: nastyString.map((x) => pct(x)) },
      { weight: 2, arbitrary: fc.tuple(fc.string({ unit: fc.constantFrom(...'abcdef0123456789-'.split('')), maxLength: 12 }), percentJunk).map(([s, j]) => `${s}${j}`) },
      { weight: 1, arbitrary: fc.constantFrom('.', '..', '%2e', '%2e%2e', '%2F', 'a%2Fb', '%00', '%20', '~', '*', '%3F', '%23', 'null', 'undefined', '0', '-1', 'me') },
      { weight: 1, arbitrary: hugeString(2_000, 12_000).map((x) => pct(x)) },
    )
    .filter((s) => s.length > 0 && !/[/?#]/.test(s) && /^[\x21-\x7e]+$/.test(s))
    .filter((s) => {
      const d = decodedSegment(s);
      return d === undefined || (d !== '' && !known.includes(d.toLowerCase()));
    });
}

/* --------------------------------------------------------- raw HTTP framing */

export interface RawAttack {
  bytes: Buffer;
  /** The request was cut short on purpose: the server may close without answering. */
  truncated: boolean;
  why: string;
}

/**
 * HTTP/1.1 framing a server must refuse, for a request line and headers that
 * would otherwise reach `method path` with `headers`: broken Content-Length,
 * Content-Length with Transfer-Encoding, broken chunking, bad header syntax,
 * control characters, an unknown Expect, a missing Host, huge headers, odd
 * request lines, truncation, junk pipelined after the request. The body is
 * always malformed JSON, so even a server that misread the framing would not
 * see a valid request.
 */
export function rawFramingAttack(method: string, path: string, headers: Record<string, string>): fc.Arbitrary<RawAttack> {
  const head = (extra: string[] = [], line = `${method} ${path} HTTP/1.1`, host = true) =>
    [line, ...(host ? ['Host: 127.0.0.1'] : []), ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), ...extra].join('\r\n');
  const body = '{"a":'; // a prefix of a JSON object: never a complete document
  const a = (text: string | Buffer, why: string, truncated = false): RawAttack => ({ bytes: Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'), why, truncated });
  return fc.oneof(
    fc.constantFrom('abc', '-1', '1.5', '0x5', '+5', '5 5', '5,5', '5, 6', '99999999999999999999999', '').map((cl) => a(`${head([`Content-Length: ${cl}`, 'Connection: close'])}\r\n\r\n${body}`, `Content-Length: ${JSON.stringify(cl)}`)),
    fc.constant(a(`${head(['Content-Length: 5', 'Content-Length: 6', 'Connection: close'])}\r\n\r\n${body}x`, 'two different Content-Lengths')),
    fc.constant(a(`${head(['Content-Length: 5', 'Transfer-Encoding: chunked', 'Connection: close'])}\r\n\r\n5\r\n${body}\r\n0\r\n\r\n`, 'Content-Length with Transfer-Encoding')),
    fc.constantFrom('zz', '-5', '5;', '5 x', 'ffffffffffffffffff', '').map((size) => a(`${head(['Transfer-Encoding: chunked', 'Connection: close'])}\r\n\r\n${size}\r\n${body}\r\n0\r\n\r\n`, `chunk size ${JSON.stringify(size)}`)),
    fc.constantFrom('gzip', 'chunked, gzip', 'identity', 'chunked, chunked', 'x').map((te) => a(`${head([`Transfer-Encoding: ${te}`, 'Connection: close'])}\r\n\r\n5\r\n${body}\r\n0\r\n\r\n`, `Transfer-Encoding: ${te}`)),
    fc.constant(a(`${head(['Transfer-Encoding: chunked'])}\r\n\r\n5\r\n${body}\r\n`, 'chunked body never finished', true)),
    fc.integer({ min: 6, max: 1_000 }).map((cl) => a(`${head([`Content-Length: ${cl}`])}\r\n\r\n${body}`, `body shorter than Content-Length ${cl}`, true)),
    fc.integer({ min: 1, max: 4 }).map((cl) => a(`${head([`Content-Length: ${cl}`])}\r\n\r\n${body}GET / HTTP/1.1\r\nConnection: close\r\n\r\n`, `body longer than Content-Length ${cl}, junk pipelined`)),
    fc.constantFrom('X-A : b', 'X-A\t: b', ' X-A: b', 'X A: b', 'X-A', ': b', 'X-A: b\rc', 'Content-Length : 5').map((h) => a(`${head([h, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, `bad header line ${JSON.stringify(h)}`)),
    fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 9).map((c) => a(`${head([`X-A: a${String.fromCharCode(c)}b`, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, `control character 0x${c.toString(16)} in a header value`)),
    fc.constant(a(`${head(['X-A: a\x7fb', 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, 'DEL in a header value')),
    fc.constantFrom('foo', '200-ok', '100-continue, foo').map((e) => a(`${head([`Expect: ${e}`, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, `Expect: ${e}`)),
    fc.constant(a(`${head(['Content-Length: 5', 'Connection: close'], undefined, false)}\r\n\r\n${body}`, 'no Host header')),
    fc.constant(a(`${head(['Host: other.example', 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, 'two Host headers')),
    fc.integer({ min: 17_000, max: 40_000 }).map((n) => a(`${head([`X-Big: ${'a'.repeat(n)}`, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, `header of ${n} bytes`)),
    fc.integer({ min: 17_000, max: 40_000 }).map((n) => a(`${head(['Content-Length: 5', 'Connection: close'], `${method} ${path}?${'a'.repeat(n)} HTTP/1.1`)}\r\n\r\n${body}`, `request line of ${n} bytes`)),
    fc.constantFrom(`${method.toLowerCase()} ${path} HTTP/1.1`, `${method}  ${path} HTTP/1.1`, `${method} ${path} HTTP/1.1 extra`, `${method} ${path} HTTP/9.9`, `${method} ${path} HTTP/1.x`, `${method} ${path} http/1.1`, `${method} ${path}\tHTTP/1.1`, `${method}${path} HTTP/1.1`, `${method} ${path.replace('/', '/ ')} HTTP/1.1`)
      .map((line) => a(`${head(['Content-Length: 5', 'Connection: close'], line)}\r\n\r\n${body}`, `request line ${JSON.stringify(line)}`)),
    fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x0b, 0x0c).map((c) => a(Buffer.concat([Buffer.from(`${method} ${path}`), Buffer.from([c]), Buffer.from(`x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n${body}`)]), `byte 0x${c.toString(16)} in the request target`)),
    fc.constant(a(`${head(['Content-Length: 5', 'Connection: close']).replace(/\r\n/g, '\n')}\n\n${body}`, 'bare LF line endings')),
    fc.nat().map((n) => {
      const full = `${head(['Content-Length: 5'])}\r\n\r\n${body}`;
      return a(full.slice(0, n % full.length), 'cut off inside the head', true);
    }),
    fc.constant(a(`${head(['Content-Length: 5', 'Connection: close'], `${method} http://evil.example${path} HTTP/1.1`)}\r\n\r\n${body}`, 'absolute-form target, malformed body')),
    fc.constant(a(`${head(['Content-Length: 5', 'Connection: close', 'Upgrade: websocket', 'Connection: Upgrade'])}\r\n\r\n${body}`, 'Upgrade request, malformed body')),
  );
}

/** Throws unless every raw reply is a 4xx problem document (none at all only where the request was truncated). */
export function expectRawRefused(attack: RawAttack, replies: HttpReply[]): void {
  const where = `\n  raw request [${attack.why}]: ${JSON.stringify(preview(attack.bytes, 500))}`;
  if (replies.length === 0 && !attack.truncated) throw new Error(`no reply${where}`);
  for (const reply of replies) {
    const errors = problemViolations('POST', reply);
    if (errors.length) throw new Error(`${errors.join('; ')}\n  reply: ${reply.status} ${preview(reply.body)}${where}`);
  }
}
