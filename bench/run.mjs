// Hookhub benchmark: the built apps as real processes against local NATS and
// PostgreSQL, compared in the same session with ../shared/baseline (raw
// JetStream + undici + HMAC, no framework, no database).
//
//   npm run bench                                   # build, then every scenario
//   node bench/run.mjs throughput latency           # some scenarios (apps already built)
//   node bench/run.mjs throughput --events=5000     # smaller sizes for a quick run
//
// Scenarios: throughput (with memory and bytes stored per delivery), latency, fanout, fanout_filtered, isolation, scaleout, rest, rest_batch, tracing,
// rate_limit, history (throughput and latency again on a database pre-filled with history), retention (the latency load
// while expired days are archived and dropped). The last two are not in the default set (minutes of set-up).
// Options (defaults in brackets):
//   --events=20000 --body=1024            throughput: events, model bytes
//   --tickets=5000                        distinct tickets the events update (round robin)
//   --rate=1000 --seconds=10              latency and isolation: offered load
//   --warmup=3                            latency and isolation: seconds of the same load to another tenant first
//                                         (its latencies are reported as cold_start; 0 measures a cold pod)
//   --fanout-events=200 --fanout-subs=100 fan-out, and fanout_filtered (the same with a payload filter on each subscription)
//   --fanout-rounds=2                     fanout_filtered: rounds of four phases (plain, filtered, filtered, plain)
//   --scale-events=2000 --scale-subs=4 --scale-delay=100 --scale-pods=1,3   scale-out
//   --scale-concurrency=20                open requests per pod (DISPATCHER_MAX_CONCURRENT_REQUESTS) in scale-out
//   --rest-events=5000 --rest-concurrency=32 --rest-warmup=1000             REST publishing (warm-up events not measured)
//   --rest-batch=500 --rest-batch-concurrency=4                           rest_batch: events per request, requests at a time
//   --rate-limit=50 --rate-burst=100 --rate-feed=500 --rate-seconds=30 --rate-pods=3   rate_limit: the limit, the events/s fed, for how long, pods
//   --tracing-rounds=4                    tracing: rounds of a phase with tracing off and one with it on (two worlds loaded in turn, ABBA), each --rate for --seconds
//   --history-deliveries=10000000         history: delivery rows pre-filled (with their events, 2 deliveries each, and attempts)
//   --retention-deliveries=200000 --retention-seconds=30                   retention: expired rows, and the load's length
//   --repeat=1                            run each scenario (with its baseline) this many times
//   --no-baseline                         skip the baseline runs
//   --set=KEY=VALUE                       extra dispatcher environment (repeatable)
//   --node-args="--trace-gc …"            extra node flags for the dispatchers
//   --log-level=info                      the apps' LOG_LEVEL (production default)
//   --cpu-prof[=dispatcher,subscriptions] profile these apps (default the dispatchers) into bench-profiles/
// Prints one JSON line per scenario. Needs NATS with JetStream and PostgreSQL
// (NATS_URL, BENCH_DATABASE_ADMIN_URL or TEST_DATABASE_ADMIN_URL).
import { execFileSync, fork, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import pg from 'pg';
import { Pool } from 'undici';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BASELINE_DIR = process.env.BASELINE_DIR ?? resolve(ROOT, '..', 'shared', 'baseline');
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_DB_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_SCENARIOS = ['throughput', 'latency', 'fanout', 'fanout_filtered', 'isolation', 'scaleout', 'rest', 'rest_batch', 'tracing', 'rate_limit'];
const ALL = [...DEFAULT_SCENARIOS, 'history', 'retention'];

// ---------------------------------------------------------------- arguments
const opts = {
  events: 20_000,
  body: 1024,
  tickets: 5_000,
  rate: 1_000,
  seconds: 10,
  warmup: 3,
  'fanout-events': 200,
  'fanout-subs': 100,
  'fanout-rounds': 2,
  'scale-events': 2_000,
  'scale-subs': 4,
  'scale-delay': 100,
  'scale-pods': '1,3',
  'scale-concurrency': 20,
  'rest-events': 5_000,
  'rest-concurrency': 32,
  'rest-warmup': 1_000,
  'rest-batch': 500,
  'rest-batch-concurrency': 4,
  'rate-limit': 50,
  'rate-burst': 100,
  'rate-feed': 500,
  'rate-seconds': 30,
  'rate-pods': 3,
  'tracing-rounds': 4,
  'history-deliveries': 10_000_000,
  'retention-deliveries': 200_000,
  'retention-seconds': 30,
  baseline: true,
  'log-level': 'info',
  'cpu-prof': false,
  repeat: 1,
  'node-args': '',
};
const extraEnv = {};
const picked = [];
for (const arg of process.argv.slice(2)) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
  if (!m) {
    picked.push(arg === 'memory' ? 'throughput' : arg);
    continue;
  }
  const [, key, value] = m;
  if (key === 'no-baseline') opts.baseline = false;
  else if (key === 'set') {
    const i = value.indexOf('=');
    extraEnv[value.slice(0, i)] = value.slice(i + 1);
  } else if (!(key in opts)) throw new Error(`unknown option --${key}`);
  else opts[key] = value === undefined ? true : typeof opts[key] === 'number' ? Number(value) : value;
}
for (const s of picked) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}; pick from ${ALL.join(', ')}, memory`);
const scenarios = picked.length ? ALL.filter((s) => picked.includes(s)) : DEFAULT_SCENARIOS;
// History and retention are judged against throughput and latency on the empty database, in the same session.
for (const needed of ['latency', 'throughput']) {
  if ((scenarios.includes('history') || (needed === 'latency' && scenarios.includes('retention'))) && !scenarios.includes(needed)) scenarios.unshift(needed);
}
// Isolation is judged against scenario 2 of the same session.
if (scenarios.includes('isolation') && !scenarios.includes('latency')) scenarios.splice(scenarios.indexOf('isolation'), 0, 'latency');

// ---------------------------------------------------------------- session state
const id = `${process.pid}`;
const database = `hookhub_bench_${id}`;
const databaseUrl = (() => {
  const u = new URL(ADMIN_DB_URL);
  u.pathname = `/${database}`;
  return u.toString();
})();
const workDir = join(tmpdir(), `hookhub-bench-${id}`);
const appsDir = join(ROOT, 'dist', `.bench-${id}`);
const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
const encryptionKey = randomBytes(32).toString('hex');
const children = new Set();
const prefixes = [];
let nc;
let db;
let receiver;
let receiverUrl;
let worldCount = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[bench] ${a.join(' ')}\n`);
const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const pct = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------- setup and teardown
async function setup() {
  mkdirSync(workDir, { recursive: true });
  // A snapshot of the built apps: a rebuild by someone else during the run changes nothing here.
  for (const app of ['subscriptions', 'dispatcher', 'provider-ingest']) {
    const main = join(ROOT, 'dist', 'apps', app, 'main.js');
    if (!existsSync(main)) {
      if (app === 'provider-ingest') continue;
      throw new Error(`${main} is missing: run npm run build`);
    }
    mkdirSync(join(appsDir, app), { recursive: true });
    copyFileSync(main, join(appsDir, app, 'main.js'));
  }
  if (opts.baseline && !existsSync(join(BASELINE_DIR, 'node_modules', 'nats'))) {
    log(`installing the baseline's dependencies in ${BASELINE_DIR}`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: BASELINE_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const admin = new pg.Client({ connectionString: ADMIN_DB_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  nc = await connect({ servers: NATS_URL });
  receiver = fork(join(ROOT, 'bench', 'receiver.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(receiver);
  const port = await new Promise((r) => receiver.once('message', (m) => r(m.port)));
  receiverUrl = `http://127.0.0.1:${port}`;
  receiver.setMaxListeners(0);
}

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  try {
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for await (const name of jsm.streams.names()) {
        if (prefixes.some((p) => name.startsWith(`${p.toUpperCase()}_`))) await jsm.streams.delete(name).catch(() => undefined);
      }
      await nc.close();
    }
  } catch (err) {
    log('stream cleanup failed:', err.message);
  }
  try {
    await db?.end();
    const admin = new pg.Client({ connectionString: ADMIN_DB_URL });
    await admin.connect();
    if (process.env.BENCH_KEEP_DB) log(`database ${database} kept (BENCH_KEEP_DB)`);
    else await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  } catch (err) {
    log('database cleanup failed:', err.message);
  }
  rmSync(appsDir, { recursive: true, force: true });
  if (!process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => void cleanup().finally(() => process.exit(130)));

// ---------------------------------------------------------------- processes
async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function startApp(app, env, portVariable, name) {
  const port = await freePort();
  const logFile = join(workDir, `${name}.log`);
  const out = openSync(logFile, 'a');
  const nodeArgs = [];
  const profiled = opts['cpu-prof'] === true ? ['dispatcher'] : opts['cpu-prof'] ? String(opts['cpu-prof']).split(',') : [];
  if (app === 'dispatcher' && opts['node-args']) nodeArgs.push(...String(opts['node-args']).split(' ').filter(Boolean));
  if (profiled.includes(app)) {
    const dir = join(ROOT, 'bench-profiles');
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`);
  }
  const child = spawn(process.execPath, [...nodeArgs, join(appsDir, app, 'main.js')], {
    env: { ...process.env, ...Object.fromEntries(Object.entries({ ...env, [portVariable]: port }).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', out, out],
  });
  children.add(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready; see ${logFile}`);
    await sleep(200);
  }
  return { name, child, port, pid: child.pid, url: `http://127.0.0.1:${port}` };
}

async function stopApp(p, graceMs = 20_000) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  children.delete(p.child);
}

/** A fresh JetStream prefix with its own subscriptions app and dispatchers; the database is shared by the session. */
async function startWorld({ dispatchers = 1, dispatcherEnv = {}, ingest = false, appEnv = {} } = {}) {
  const prefix = `bench${id}w${++worldCount}`;
  prefixes.push(prefix);
  const env = {
    DATABASE_URL: databaseUrl,
    NATS_URL,
    JETSTREAM_PREFIX: prefix,
    ADMIN_TOKEN: adminToken,
    SECRETS_ENCRYPTION_KEY: encryptionKey,
    ALLOW_INSECURE_WEBHOOK_TARGETS: true,
    LOG_LEVEL: opts['log-level'],
    SHUTDOWN_GRACE_MS: 2_000,
    ...appEnv,
  };
  const apps = { subscriptions: await startApp('subscriptions', env, 'SUBSCRIPTIONS_PORT', `subscriptions-${worldCount}`), dispatchers: [] };
  const dEnv = { ...env, ...dispatcherEnv, ...extraEnv };
  // Sequentially: the first creates the streams and consumers, the others find them.
  for (let i = 0; i < dispatchers; i++) apps.dispatchers.push(await startApp('dispatcher', dEnv, 'DISPATCHER_PORT', `dispatcher-${worldCount}-${i}`));
  if (ingest && existsSync(join(appsDir, 'provider-ingest', 'main.js'))) {
    apps.ingest = await startApp('provider-ingest', env, 'PROVIDER_INGEST_PORT', `provider-ingest-${worldCount}`).catch((err) => {
      log('provider-ingest did not start (its RSS is left out):', err.message.split('\n')[0]);
      return undefined;
    });
  }
  if (!db) {
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  }
  const api = new Api(apps.subscriptions.url);
  return {
    prefix,
    apps,
    api,
    subject: (tenant, type) => `${prefix}.events.${tenant}.${type}`,
    async stop() {
      for (const d of apps.dispatchers) await stopApp(d);
      if (apps.ingest) await stopApp(apps.ingest);
      await stopApp(apps.subscriptions);
      const jsm = await nc.jetstreamManager();
      for (const s of [`${prefix.toUpperCase()}_EVENTS`, `${prefix.toUpperCase()}_RETRIES`]) await jsm.streams.delete(s).catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------- admin API
class Api {
  constructor(base) {
    this.base = base;
  }
  async req(method, path, token, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  }
  async tenant(name) {
    const t = await this.req('POST', '/v1/tenants', adminToken, { name });
    if (t.status !== 201) throw new Error(`tenant: ${t.status} ${JSON.stringify(t.body)}`);
    const k = await this.req('POST', `/v1/tenants/${t.body.id}/api-keys`, adminToken, { name: 'bench', roles: ['admin', 'publisher'] });
    if (k.status !== 201) throw new Error(`key: ${k.status} ${JSON.stringify(k.body)}`);
    return { id: t.body.id, key: k.body.key };
  }
  /** Creates subscriptions with a verify token; the receiver answers the challenge and they become active. `filters[i]`: the i-th one's payload filter. */
  async subscribe(key, urls, eventTypes = ['ticket.updated'], filters = null) {
    const ids = [];
    for (let i = 0; i < urls.length; i += 10) {
      const made = await Promise.all(
        urls.slice(i, i + 10).map((url, j) =>
          this.req('POST', '/v1/subscriptions', key, {
            url,
            event_types: eventTypes,
            verify_token: `verify-${randomUUID()}`,
            description: 'bench',
            ...(filters ? { filter: filters[i + j] } : {}),
          }),
        ),
      );
      for (const r of made) {
        if (r.status !== 201) throw new Error(`subscription: ${r.status} ${JSON.stringify(r.body)}`);
        ids.push(r.body.id);
      }
    }
    const deadline = Date.now() + 60_000;
    for (const sid of ids) {
      for (;;) {
        const r = await this.req('GET', `/v1/subscriptions/${sid}`, key);
        if (r.body.state === 'active') break;
        if (Date.now() > deadline) throw new Error(`subscription ${sid} not verified: ${JSON.stringify(r.body)}`);
        await sleep(100);
      }
    }
    return ids;
  }
}

// ---------------------------------------------------------------- receiver IPC
let ipcSeq = 0;
function receiverCall(msg, type) {
  const reqId = ++ipcSeq;
  return new Promise((res) => {
    const on = (m) => {
      if (m.id === reqId && m.type === type) {
        receiver.off('message', on);
        res(m.stats);
      }
    };
    receiver.on('message', on);
    receiver.send({ ...msg, id: reqId });
  });
}
const waitReceived = (label, count, timeoutMs) =>
  Promise.race([
    receiverCall({ type: 'wait', label, count }, 'reached'),
    sleep(timeoutMs).then(async () => {
      const s = await receiverCall({ type: 'stats', label }, 'stats');
      throw new Error(`receiver got ${s.unique} of ${count} deliveries on /${label} within ${timeoutMs} ms`);
    }),
  ]);
const receiverStats = (label) => receiverCall({ type: 'stats', label }, 'stats');

// ---------------------------------------------------------------- events
function modelFiller(bytes) {
  // A ticket model whose JSON is `bytes` long.
  const base = JSON.stringify({ id: 't-000000', subject: 'Refund request', state: 'open', description: '' });
  return 'x'.repeat(Math.max(0, bytes - base.length));
}

/** Publishes like the baseline: windows of 1,000 unacknowledged publishes, optionally at `rate` events/s. */
async function publish({ tenant, subject, count, rate = 0, filler, tickets = opts.tickets, idPrefix = 'e' }) {
  const js = nc.jetstream();
  const enc = new TextEncoder();
  const started = Date.now();
  let window = [];
  for (let i = 0; i < count; i++) {
    const ticket = `t-${String(i % tickets).padStart(6, '0')}`;
    const eid = `${idPrefix}${i}`;
    const now = Date.now();
    const body =
      `{"id":"${eid}","account_id":"${tenant}","account_url":"","created_at":"${new Date(now).toISOString()}","type":"ticket.updated",` +
      `"data":{"changes":{"state":["new","open"]},"sent_at":${now}},"actor_type":"user","actor_id":"u-1","actor_name":"Bench",` +
      `"model_type":"ticket","model_id":"${ticket}","model":{"id":"${ticket}","subject":"Refund request","state":"open","description":"${filler}"}}`;
    window.push(js.publish(subject, enc.encode(body), { msgID: `${tenant}:${eid}` }));
    if (window.length >= 1000) {
      await Promise.all(window);
      window = [];
    }
    if (rate > 0 && i % 10 === 9) {
      const due = started + ((i + 1) * 1000) / rate;
      if (due > Date.now()) {
        await Promise.all(window);
        window = [];
        await sleep(due - Date.now());
      }
    }
  }
  await Promise.all(window);
  return started;
}

/** Waits until the database shows `count` delivered rows for these subscriptions; returns when the last was recorded. */
async function persisted(subscriptionIds, count, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await db.query(`SELECT count(*)::int AS n, max(updated_at) AS last FROM deliveries WHERE subscription_id = ANY($1) AND status = 'delivered'`, [
      subscriptionIds,
    ]);
    if (r.rows[0].n >= count) return r.rows[0].last.getTime();
    if (Date.now() > deadline) throw new Error(`only ${r.rows[0].n} of ${count} deliveries recorded as delivered`);
    await sleep(100);
  }
}

/** Where the time goes, per delivery: publish → fan-out transaction started (recorded_at), → HTTP attempt started, and the attempt's duration. */
async function latencyBreakdown(subscriptionId) {
  const r = await db.query(
    `WITH t AS (
       SELECT extract(epoch FROM e.recorded_at) * 1000 - (e.envelope->'data'->>'sent_at')::float8 AS to_fan_out,
              extract(epoch FROM a.started_at) * 1000 - (e.envelope->'data'->>'sent_at')::float8 AS to_send,
              a.duration_ms::float8 AS send
         FROM deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
         JOIN delivery_attempts a ON a.delivery_id = d.id AND a.attempt = 1
        WHERE d.subscription_id = $1)
     SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY to_fan_out) AS fan_out_p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY to_fan_out) AS fan_out_p99,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY to_send) AS send_start_p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY to_send) AS send_start_p99,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY send) AS send_p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY send) AS send_p99
       FROM t`,
    [subscriptionId],
  );
  return Object.fromEntries(Object.entries(r.rows[0]).map(([k, v]) => [`${k}_ms`, Math.round(v)]));
}

/** Duration of the HTTP attempts as the dispatcher measured them (request sent to response read). */
async function attemptDurations(subscriptionIds) {
  const r = await db.query(
    `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY a.duration_ms) AS p99
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = ANY($1)`,
    [subscriptionIds],
  );
  return { attempt_p50_ms: r.rows[0].p50, attempt_p99_ms: r.rows[0].p99 };
}

async function metric(app, name) {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').pop());
  return sum;
}

async function dispatcherCounters(world) {
  let deferred = 0,
    attempts = 0;
  const perPod = [];
  for (const d of world.apps.dispatchers) {
    deferred += await metric(d, 'hookhub_deliveries_deferred_total');
    const a = await metric(d, 'hookhub_delivery_attempts_total');
    attempts += a;
    perPod.push(a);
  }
  return { deferred, attempts, perPod };
}

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU used during a scenario by the hub's processes, this database's PostgreSQL backends, NATS, the receiver and this script. */
async function cpuMeter(world) {
  const pgPids = async () => (await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [database])).rows.map((r) => r.pid);
  const natsPids = () => {
    try {
      return execFileSync('pgrep', ['-x', 'nats-server'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const groups = async () => ({
    dispatcher: world.apps.dispatchers.map((d) => d.pid),
    subscriptions: [world.apps.subscriptions.pid],
    postgres: await pgPids(),
    nats: natsPids(),
    receiver: [receiver.pid],
  });
  const take = async () => {
    const g = await groups();
    const out = Object.fromEntries(Object.entries(g).map(([k, pids]) => [k, new Map(pids.map((p) => [p, cpuSeconds(p)]))]));
    out.bench = process.cpuUsage();
    return out;
  };
  const before = await take();
  return async () => {
    const after = await take();
    const used = {};
    for (const k of Object.keys(after)) {
      if (k === 'bench') continue;
      let sum = 0;
      for (const [pid, t] of after[k]) sum += t - (before[k].get(pid) ?? 0);
      used[k] = round(sum, 1);
    }
    const b = process.cpuUsage(before.bench);
    used.bench = round((b.user + b.system) / 1e6, 1);
    return used;
  };
}

function rssSampler(apps) {
  const peak = Object.fromEntries(apps.map((a) => [a.name, { rss: 0, hwm: 0 }]));
  const read = () => {
    for (const a of apps) {
      try {
        const status = readFileSync(`/proc/${a.pid}/status`, 'utf8');
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        peak[a.name].rss = Math.max(peak[a.name].rss, rss);
        peak[a.name].hwm = Math.max(peak[a.name].hwm, hwm);
      } catch {
        /* exited */
      }
    }
  };
  read();
  const timer = setInterval(read, 100);
  return () => {
    clearInterval(timer);
    read();
    return peak;
  };
}

// ---------------------------------------------------------------- baseline
async function baseline(args) {
  if (!opts.baseline) return null;
  const out = await new Promise((res, rej) => {
    const child = spawn(process.execPath, ['baseline.mjs', ...args.map(String)], {
      cwd: BASELINE_DIR,
      env: { ...process.env, NATS_URL },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('exit', (code) => {
      children.delete(child);
      code === 0 ? res(text) : rej(new Error(`baseline exited with ${code}`));
    });
  });
  return JSON.parse(out.trim().split('\n').pop());
}

// ---------------------------------------------------------------- scenarios
const results = {};

async function throughput() {
  const base = await baseline([opts.events, opts.body]);
  const m = await measureThroughput();
  const { hubRate } = m;
  results.throughput = hubRate;
  results.publishRate = m.hub.publish_per_s;
  emit({
    scenario: 'throughput',
    events: opts.events,
    model_bytes: opts.body,
    subscriptions: 1,
    hub: m.hub,
    storage: m.storage,
    baseline: base && { deliveries_per_s: base.deliveries_per_s },
    ratio: base && round(hubRate / base.deliveries_per_s),
    target: 'ratio >= 0.6',
    met: base ? hubRate / base.deliveries_per_s >= 0.6 : null,
  });
  emit({ scenario: 'memory', during: 'throughput', ...m.memory });
}

/** `--events` published as fast as possible to one subscription: the hub's rate, with memory and the bytes it stored. */
async function measureThroughput() {
  const n = opts.events;
  const world = await startWorld({ ingest: true });
  try {
    const t = await world.api.tenant('bench-throughput');
    const label = `tp${worldCount}`;
    const [sid] = await world.api.subscribe(t.key, [`${receiverUrl}/${label}/hook`]);
    const apps = [world.apps.subscriptions, ...world.apps.dispatchers, ...(world.apps.ingest ? [world.apps.ingest] : [])];
    const stopSampling = rssSampler(apps);
    const stopCpu = await cpuMeter(world);
    const bytesBefore = await storageBytes();
    const received = waitReceived(label, n, 600_000);
    const started = await publish({ tenant: t.id, subject: world.subject(t.id, 'ticket.updated'), count: n, filler: modelFiller(opts.body) });
    const publishedAt = Date.now();
    const got = await received;
    const recordedAt = await persisted([sid], n);
    const bytesAfter = await storageBytes();
    const per = (table) => Math.round((bytesAfter[table] - bytesBefore[table]) / n);
    const peak = stopSampling();
    const cpu = await stopCpu();
    const counters = await dispatcherCounters(world);
    const batches = (await db.query(`SELECT count(DISTINCT recorded_at)::int AS n FROM events WHERE tenant_id = $1`, [t.id])).rows[0].n;
    const flushes = (await db.query(`SELECT count(DISTINCT updated_at)::int AS n FROM deliveries WHERE subscription_id = $1`, [sid])).rows[0].n;
    const hubRate = n / ((recordedAt - started) / 1000);
    return {
      hubRate,
      hub: {
        deliveries_per_s: Math.round(hubRate),
        received_per_s: Math.round(n / ((got.last - started) / 1000)),
        publish_per_s: Math.round(n / ((publishedAt - started) / 1000)),
        duplicates: got.duplicates,
        deferred: counters.deferred,
        attempts: counters.attempts,
        fan_out_transactions: batches,
        attempt_log_writes: flushes,
        receiver_connections: got.connections,
        ...(await attemptDurations([sid])),
        cpu_s: cpu,
      },
      // What each delivered event left in PostgreSQL (tables, TOAST and indexes; one subscription, one attempt each).
      storage: {
        bytes_per_event: per('events'),
        bytes_per_delivery: per('deliveries'),
        bytes_per_attempt: per('delivery_attempts'),
        bytes_per_delivered_event: per('events') + per('deliveries') + per('delivery_attempts'),
        target: 'bytes_per_delivered_event <= 1536',
      },
      memory: {
        peak_rss_mb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k.replace(/-\d+(-\d+)?$/, ''), Math.round(v.rss)])),
        vm_hwm_mb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k.replace(/-\d+(-\d+)?$/, ''), Math.round(v.hwm)])),
      },
    };
  } finally {
    await world.stop();
  }
}

/**
 * The same load for `--warmup` seconds to a tenant of its own, before the
 * measured run: the dispatcher's code is compiled by then and its connections
 * (PostgreSQL, the receiver's origin) are open, as in a pod that has been
 * running. Returns the warm-up's own latencies: what a cold pod shows.
 */
async function warmUp(world) {
  const count = Math.round(opts.rate * opts.warmup);
  const t = await world.api.tenant(`bench-warmup-${worldCount}`);
  const label = `warm${worldCount}`;
  await world.api.subscribe(t.key, [`${receiverUrl}/${label}/hook`]);
  const received = waitReceived(label, count, 300_000);
  await publish({ tenant: t.id, subject: world.subject(t.id, 'ticket.updated'), count, rate: opts.rate, filler: modelFiller(opts.body), idPrefix: 'w' });
  const lat = (await received).latencies.sort((a, b) => a - b);
  return { seconds: opts.warmup, p50_ms: pct(lat, 0.5), p99_ms: pct(lat, 0.99), max_ms: lat[lat.length - 1] };
}

/** Offered load for `seconds`; returns the healthy endpoint's latencies. */
async function steadyLoad({ withDeadEndpoint, seconds = opts.seconds, dispatcherEnv = {} }) {
  const n = opts.rate * seconds;
  const world = await startWorld({ dispatcherEnv });
  try {
    const t = await world.api.tenant(withDeadEndpoint ? 'bench-isolation' : 'bench-latency');
    const label = `lat${worldCount}`;
    const urls = [`${receiverUrl}/${label}/hook`];
    if (withDeadEndpoint) urls.push(`${receiverUrl}/hang${worldCount}/hook`);
    const sids = await world.api.subscribe(t.key, urls);
    const coldStart = opts.warmup > 0 ? await warmUp(world) : null;
    const stopCpu = await cpuMeter(world);
    const received = waitReceived(label, n, 300_000);
    const started = await publish({ tenant: t.id, subject: world.subject(t.id, 'ticket.updated'), count: n, rate: opts.rate, filler: modelFiller(opts.body) });
    const got = await received;
    await persisted([sids[0]], n);
    const cpu = await stopCpu();
    const lag = {
      p99: round((await metric(world.apps.dispatchers[0], 'nodejs_eventloop_lag_p99_seconds')) * 1000, 1),
      max: round((await metric(world.apps.dispatchers[0], 'nodejs_eventloop_lag_max_seconds')) * 1000, 1),
    };
    const counters = await dispatcherCounters(world);
    const dead = withDeadEndpoint ? await receiverStats(`hang${worldCount}`) : null;
    const lat = got.latencies.sort((a, b) => a - b);
    return {
      p50_ms: pct(lat, 0.5),
      p99_ms: pct(lat, 0.99),
      max_ms: lat[lat.length - 1],
      delivered_per_s: Math.round(n / ((got.last - started) / 1000)),
      duplicates: got.duplicates,
      deferred: counters.deferred,
      dead_endpoint_requests: dead?.requests,
      breakdown: await latencyBreakdown(sids[0]),
      dispatcher_event_loop_lag_ms: lag,
      cpu_s: cpu,
      cold_start: coldStart,
    };
  } finally {
    await world.stop();
  }
}

async function latency() {
  const n = opts.rate * opts.seconds;
  const base = await baseline([n, opts.body, 256, opts.rate]);
  const hub = await steadyLoad({ withDeadEndpoint: false });
  results.latencyP99 = hub.p99_ms;
  emit({
    scenario: 'latency',
    rate: opts.rate,
    seconds: opts.seconds,
    events: n,
    hub,
    baseline: base && { p50_ms: base.p50_ms, p99_ms: base.p99_ms },
    target: 'hub p99 <= 50 ms',
    met: hub.p99_ms <= 50,
  });
}

async function isolation() {
  const hub = await steadyLoad({ withDeadEndpoint: true });
  const reference = results.latencyP99;
  emit({
    scenario: 'isolation',
    rate: opts.rate,
    seconds: opts.seconds,
    events: opts.rate * opts.seconds,
    hub,
    latency_scenario_p99_ms: reference,
    ratio: round(hub.p99_ms / Math.max(1, reference)),
    target: 'healthy p99 <= 2x the latency scenario p99',
    met: hub.p99_ms <= 2 * Math.max(reference, 1),
  });
}

async function fanout() {
  const events = opts['fanout-events'];
  const subs = opts['fanout-subs'];
  const n = events * subs;
  const base = await baseline([n, opts.body]);
  const world = await startWorld();
  try {
    const t = await world.api.tenant('bench-fanout');
    const label = `fan${worldCount}`;
    const sids = await world.api.subscribe(
      t.key,
      Array.from({ length: subs }, (_, i) => `${receiverUrl}/${label}/${i}`),
    );
    const received = waitReceived(label, n, 600_000);
    const started = await publish({ tenant: t.id, subject: world.subject(t.id, 'ticket.updated'), count: events, filler: modelFiller(opts.body) });
    const got = await received;
    const recordedAt = await persisted(sids, n);
    const counters = await dispatcherCounters(world);
    const hubRate = n / ((recordedAt - started) / 1000);
    emit({
      scenario: 'fanout',
      events,
      subscriptions: subs,
      deliveries: n,
      hub: {
        deliveries_per_s: Math.round(hubRate),
        received_per_s: Math.round(n / ((got.last - started) / 1000)),
        duplicates: got.duplicates,
        deferred: counters.deferred,
      },
      baseline: base && { deliveries_per_s: base.deliveries_per_s, events: n },
      ratio: base && round(hubRate / base.deliveries_per_s),
      target: 'ratio >= 0.6',
      met: base ? hubRate / base.deliveries_per_s >= 0.6 : null,
    });
  } finally {
    await world.stop();
  }
}

/** A payload filter every bench event passes, different for each subscription (so each compiles its own). */
const benchFilter = (i) => ({
  'model.state': { $in: ['open', 'pending'] },
  actor_type: 'user',
  'model.subject': { $regex: '^Refund' },
  'data.changes.state': { $all: ['open'] },
  model_id: { $ne: `none-${i}` },
});

/**
 * Fan-out with a payload filter on each of `--fanout-subs` subscriptions, against the same fan-out without
 * filters in the same world: one tenant's subscriptions have no filter, another's as many have one each
 * (`benchFilter`: five conditions, a $regex among them, that every event passes, so both sides deliver the
 * same requests and the difference is what the filters cost). After a short warm-up of both sides, each of
 * `--fanout-rounds` rounds runs plain, filtered, filtered, plain, so a drift of the shared machine weighs on
 * both alike; each side's rate is its deliveries over the time of its phases (publish to the last delivery
 * recorded), and its CPU the dispatcher's CPU time per 1,000 deliveries (steadier than the rate on a shared machine).
 */
async function fanoutFiltered() {
  const events = opts['fanout-events'];
  const subs = opts['fanout-subs'];
  const world = await startWorld();
  try {
    const filler = modelFiller(opts.body);
    const sides = {};
    for (const side of ['plain', 'filtered']) {
      const t = await world.api.tenant(`bench-fanout-${side}`);
      const label = `${side}${worldCount}`;
      const urls = Array.from({ length: subs }, (_, i) => `${receiverUrl}/${label}/${i}`);
      const sids = await world.api.subscribe(t.key, urls, ['ticket.updated'], side === 'filtered' ? urls.map((_, i) => benchFilter(i)) : null);
      sides[side] = { tenant: t.id, label, sids, delivered: 0, seconds: 0, cpu: 0, phases: [] };
    }
    let phase = 0;
    const run = async (side, count, measured) => {
      const s = sides[side];
      const target = s.delivered + count * subs;
      const received = waitReceived(s.label, target, 600_000);
      const idPrefix = `f${phase++}-`;
      const dispatcherCpu = () => world.apps.dispatchers.reduce((sum, d) => sum + cpuSeconds(d.pid), 0);
      const cpuBefore = dispatcherCpu();
      const started = await publish({ tenant: s.tenant, subject: world.subject(s.tenant, 'ticket.updated'), count, filler, idPrefix });
      await received;
      const recordedAt = await persisted(s.sids, target);
      s.delivered = target;
      if (!measured) return;
      const seconds = (recordedAt - started) / 1000;
      s.seconds += seconds;
      s.cpu += dispatcherCpu() - cpuBefore;
      s.phases.push(Math.round((count * subs) / seconds));
    };
    const warm = Math.max(1, Math.round(events / 10));
    await run('plain', warm, false);
    await run('filtered', warm, false);
    const rounds = opts['fanout-rounds'];
    for (let r = 0; r < rounds; r++) for (const side of ['plain', 'filtered', 'filtered', 'plain']) await run(side, events, true);
    const perSide = 2 * rounds * events * subs;
    const rate = (side) => perSide / sides[side].seconds;
    const cpuPerThousand = (side) => round((sides[side].cpu * 1e6) / perSide, 1);
    const ratio = rate('filtered') / rate('plain');
    let filteredOut = 0;
    for (const d of world.apps.dispatchers) filteredOut += await metric(d, 'hookhub_events_filtered_total');
    emit({
      scenario: 'fanout_filtered',
      events,
      subscriptions: subs,
      rounds,
      deliveries_per_side: perSide,
      filter: benchFilter(0),
      hub: {
        plain_deliveries_per_s: Math.round(rate('plain')),
        filtered_deliveries_per_s: Math.round(rate('filtered')),
        plain_phases_per_s: sides.plain.phases,
        filtered_phases_per_s: sides.filtered.phases,
        plain_dispatcher_cpu_ms_per_1000: cpuPerThousand('plain'),
        filtered_dispatcher_cpu_ms_per_1000: cpuPerThousand('filtered'),
        events_filtered_out: filteredOut,
      },
      ratio: round(ratio),
      target: 'filtered >= 0.9 x plain',
      met: ratio >= 0.9,
    });
  } finally {
    await world.stop();
  }
}

async function scaleout() {
  const events = opts['scale-events'];
  const subs = opts['scale-subs'];
  const n = events * subs;
  const out = {};
  for (const pods of String(opts['scale-pods']).split(',').map(Number)) {
    // Each pod is held to `scale-concurrency` open requests, so one pod is bound by the endpoints'
    // 100 ms and not by the CPU; three pods then show whether anything shared (consumer, database,
    // subscription rows) keeps them from tripling it.
    const world = await startWorld({ dispatchers: pods, dispatcherEnv: { DISPATCHER_MAX_CONCURRENT_REQUESTS: opts['scale-concurrency'] } });
    try {
      const t = await world.api.tenant(`bench-scale-${pods}`);
      const label = `scale${worldCount}`;
      const sids = await world.api.subscribe(
        t.key,
        Array.from({ length: subs }, (_, i) => `${receiverUrl}/${label}/delay/${opts['scale-delay']}/${i}`),
      );
      const received = waitReceived(label, n, 900_000);
      const started = await publish({ tenant: t.id, subject: world.subject(t.id, 'ticket.updated'), count: events, filler: modelFiller(opts.body) });
      const got = await received;
      const recordedAt = await persisted(sids, n);
      const counters = await dispatcherCounters(world);
      out[pods] = {
        deliveries_per_s: Math.round(n / ((recordedAt - started) / 1000)),
        received_per_s: Math.round(n / ((got.last - started) / 1000)),
        duplicates: got.duplicates,
        deferred: counters.deferred,
        attempts_per_pod: counters.perPod,
        ...(await attemptDurations(sids)),
      };
    } finally {
      await world.stop();
    }
  }
  const [one, many] = Object.keys(out)
    .map(Number)
    .sort((a, b) => a - b);
  const ratio = many ? out[many].deliveries_per_s / out[one].deliveries_per_s : null;
  emit({
    scenario: 'scaleout',
    events,
    subscriptions: subs,
    deliveries: n,
    endpoint_delay_ms: opts['scale-delay'],
    open_requests_per_pod: opts['scale-concurrency'],
    hub: Object.fromEntries(Object.entries(out).map(([k, v]) => [`pods_${k}`, v])),
    ratio: round(ratio),
    target: `${many} pods >= 2.5x ${one}`,
    met: ratio === null ? null : ratio >= 2.5,
  });
}

/**
 * `POST /v1/events` (`rest`, `--rest-concurrency` requests at a time) or `POST /v1/events/batch` (`rest_batch`,
 * `--rest-batch` events per request, `--rest-batch-concurrency` at a time), against the raw JetStream publish
 * rate measured in the same world right before (the bench's publish loop, the same events): the REST API's cost
 * over what a trusted service pays. `--rest-warmup` events first (not measured), so the figure is a pod that has
 * been running, as in latency. Measured twice: with the dispatcher delivering at the same time (`hub`, the
 * target's figure: on two shared cores the deliveries take the CPU the API would use), then with the dispatcher
 * stopped (`api_only`: the events wait in the stream), the API on the cores it would have in production. The
 * HTTP client is undici's pool with keep-alive connections (fetch costs the bench itself several times its CPU on
 * these two cores). request_* is the time to the 202 (JetStream acked), delivery_* the time from the event's
 * `sent_at` (just before its request) to the receiver.
 */
async function restPublishing({ scenario, batch }) {
  const n = opts['rest-events'];
  const concurrency = batch ? opts['rest-batch-concurrency'] : opts['rest-concurrency'];
  const warmup = opts['rest-warmup'];
  const world = await startWorld();
  const pool = new Pool(world.apps.subscriptions.url, { connections: concurrency, pipelining: 1 });
  try {
    const t = await world.api.tenant(`bench-${scenario}`);
    const label = `${scenario.replace('_', '')}${worldCount}`;
    await world.api.subscribe(t.key, [`${receiverUrl}/${label}/hook`]);
    const filler = modelFiller(opts.body);

    // The raw rate: the same number of events straight to JetStream, delivered before the REST load starts.
    const rawLabel = `${label}raw`;
    const raw = await world.api.tenant(`bench-${scenario}-raw`);
    await world.api.subscribe(raw.key, [`${receiverUrl}/${rawLabel}/hook`]);
    const rawReceived = waitReceived(rawLabel, n, 600_000);
    const rawStarted = await publish({ tenant: raw.id, subject: world.subject(raw.id, 'ticket.updated'), count: n, filler, idPrefix: 'raw' });
    const rawRate = n / ((Date.now() - rawStarted) / 1000);
    await rawReceived;

    const headers = { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' };
    let rejected = 0;
    const event = (id, i) => {
      const ticket = `t-${String(i % opts.tickets).padStart(6, '0')}`;
      return {
        id,
        type: 'ticket.updated',
        model_id: ticket,
        data: { changes: {}, sent_at: Date.now() },
        model: { id: ticket, subject: 'Refund request', state: 'open', description: filler },
      };
    };
    // One request: a single event, or `batch` of them; each event is rejected or not on its own.
    const post = async (idPrefix, from, count, latencies) => {
      const events = Array.from({ length: count }, (_, k) => event(`${idPrefix}${from + k}`, from + k));
      const body = JSON.stringify(batch ? { events } : events[0]);
      const sent = performance.now();
      const r = await pool.request({ method: 'POST', path: batch ? '/v1/events/batch' : '/v1/events', headers, body });
      const text = await r.body.text();
      latencies?.push(performance.now() - sent);
      if (r.statusCode === 202) return;
      const failed = batch && r.statusCode === 207 ? JSON.parse(text).failed : count;
      rejected += failed;
      if (rejected <= failed) log(`${scenario} publish answered`, r.statusCode, text.slice(0, 500));
    };
    const load = async (count, idPrefix, latencies) => {
      const size = batch || 1;
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const from = next;
          next += size;
          await post(idPrefix, from, Math.min(size, count - from), latencies);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    };
    const measure = async (idPrefix) => {
      rejected = 0;
      const latencies = [];
      const stopCpu = await cpuMeter(world);
      const started = Date.now();
      await load(n, idPrefix, latencies);
      const acceptedAt = Date.now();
      latencies.sort((a, b) => a - b);
      return {
        started,
        accepted_per_s: Math.round((n - rejected) / ((acceptedAt - started) / 1000)),
        rejected,
        request_p50_ms: round(pct(latencies, 0.5), 1),
        request_p99_ms: round(pct(latencies, 0.99), 1),
        cpu_s: await stopCpu(),
      };
    };

    if (warmup > 0) {
      const warmLabel = `${label}warm`;
      const warm = await world.api.tenant(`bench-${scenario}-warmup`);
      await world.api.subscribe(warm.key, [`${receiverUrl}/${warmLabel}/hook`]);
      const own = headers.authorization;
      headers.authorization = `Bearer ${warm.key}`;
      const warmReceived = waitReceived(warmLabel, warmup, 600_000);
      await load(warmup, 'w', null);
      headers.authorization = own;
      await warmReceived;
    }

    const received = waitReceived(label, n, 600_000);
    const { started, ...hub } = await measure('r');
    const got = await received;
    const lat = got.latencies.sort((a, b) => a - b);
    hub.delivered_per_s = Math.round(n / ((got.last - started) / 1000));
    hub.delivery_p50_ms = pct(lat, 0.5);
    hub.delivery_p99_ms = pct(lat, 0.99);

    // The same load again with no dispatcher running: what the API does with the cores to itself.
    for (const d of world.apps.dispatchers) await stopApp(d);
    world.apps.dispatchers = [];
    const apiOnly = await measure('a');
    delete apiOnly.started;

    const ratio = hub.accepted_per_s / rawRate;
    const apiRatio = apiOnly.accepted_per_s / rawRate;
    const p99Target = batch ? Infinity : 50;
    emit({
      scenario,
      events: n,
      ...(batch ? { events_per_request: batch } : {}),
      concurrency,
      warmup_events: warmup,
      hub,
      api_only: { ...apiOnly, ratio: round(apiRatio) },
      raw_publish_per_s: Math.round(rawRate),
      ratio: round(ratio),
      target: batch ? 'accepted_per_s >= 1.0 x raw_publish_per_s' : 'accepted_per_s >= 0.5 x raw_publish_per_s, request_p99_ms <= 50',
      met: ratio >= (batch ? 1 : 0.5) && hub.request_p99_ms <= p99Target,
      met_api_only: apiRatio >= (batch ? 1 : 0.5) && apiOnly.request_p99_ms <= p99Target,
      note: `${batch ? 'POST /v1/events/batch' : 'POST /v1/events'} (API key, validation, JetStream publish ack); hub: with the dispatcher delivering at the same time, api_only: without`,
    });
  } finally {
    await pool.close();
    await world.stop();
  }
}

const rest = () => restPublishing({ scenario: 'rest', batch: 0 });
const restBatch = () => restPublishing({ scenario: 'rest_batch', batch: opts['rest-batch'] });

/** Bytes of each history table: every partition's table, TOAST and indexes. */
async function storageBytes() {
  const r = await db.query(
    `SELECT t AS name, (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree(t::regclass))::bigint AS bytes
       FROM unnest(ARRAY['events', 'deliveries', 'delivery_attempts', 'provider_callbacks']) t`,
  );
  return Object.fromEntries(r.rows.map((x) => [x.name, Number(x.bytes)]));
}

/**
 * Writes history straight into the day partitions of these days ago (created here as the hub names them):
 * per day, `perDay` events of a tenant of its own, each delivered to its two subscriptions with one attempt.
 * Generated in SQL, a day per statement, so ten million rows take minutes, not hours.
 */
async function prefillHistory(daysAgo, deliveriesPerDay, label) {
  const tenant = (await db.query(`INSERT INTO tenants (name) VALUES ($1) RETURNING id`, [label])).rows[0].id;
  const subs = [];
  for (let i = 0; i < 2; i++) {
    subs.push(
      (
        await db.query(
          `INSERT INTO subscriptions (tenant_id, url, event_types, retry_policy_ms, state) VALUES ($1, 'https://history.example/hook', '{ticket.updated}', '{1000}', 'active') RETURNING id`,
          [tenant],
        )
      ).rows[0].id,
    );
  }
  const perDay = Math.ceil(deliveriesPerDay / subs.length);
  const model = 'x'.repeat(Math.max(0, opts.body - 80));
  const started = Date.now();
  for (const ago of daysAgo) {
    const day = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - ago * 86_400_000);
    const from = day.toISOString();
    const to = new Date(day.getTime() + 86_400_000).toISOString();
    const suffix = from.slice(0, 10).replace(/-/g, '');
    for (const table of ['events', 'deliveries', 'delivery_attempts']) {
      await db.query(`CREATE TABLE IF NOT EXISTS ${table}_p${suffix} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
    }
    await db.query(
      `INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at, recorded_at)
       SELECT $1, 'h' || $2::int || '-' || i, 'ticket.updated', 'ticket', 'h-' || (i % 100000), $2::int * $3::int + i, 'UPDATE',
              json_build_object('id', 'h' || $2::int || '-' || i, 'account_id', $1::uuid, 'type', 'ticket.updated', 'model_type', 'ticket',
                                'model_id', 'h-' || (i % 100000), 'model', json_build_object('id', 'h-' || (i % 100000), 'description', $4::text)),
              $5::timestamptz + i * ($6::double precision * interval '1 millisecond'), $5::timestamptz + i * ($6::double precision * interval '1 millisecond')
         FROM generate_series(1, $3::int) i`,
      [tenant, ago, perDay, model, from, 86_400_000 / (perDay + 1)],
    );
    await db.query(
      `INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, attempt_count, last_status_code, resource,
                               resource_version, delivered_at, created_at, updated_at)
       SELECT gen_random_uuid(), e.tenant_id, s, e.id, e.type, 'delivered', 1, 200, 'ticket/' || e.model_id, e.version,
              e.recorded_at + interval '20 milliseconds', e.recorded_at, e.recorded_at + interval '20 milliseconds'
         FROM events_p${suffix} e CROSS JOIN unnest($2::uuid[]) s WHERE e.tenant_id = $1`,
      [tenant, subs],
    );
    await db.query(
      `INSERT INTO delivery_attempts (id, delivery_id, delivery_created_at, attempt, outcome, started_at, duration_ms, request_url,
                                      request_headers, response_status, response_headers, response_body)
       SELECT gen_random_uuid(), d.id, d.created_at, 1, 'success', d.created_at + interval '1 millisecond', 12, 'https://history.example/hook',
              json_build_object('X-Webhook-Signature', 'sha256=' || md5(d.id::text) || md5(d.event_id), 'X-Webhook-Timestamp', '1764460800'),
              200, '{"content-length":"2","date":"Mon, 30 Nov 2026 00:00:00 GMT"}', 'ok'
         FROM deliveries_p${suffix} d WHERE d.tenant_id = $1`,
      [tenant],
    );
  }
  await db.query('ANALYZE events, deliveries, delivery_attempts');
  return { tenant, rows: perDay * subs.length * daysAgo.length, seconds: round((Date.now() - started) / 1000, 1) };
}

async function history() {
  const empty = { throughput: results.throughput, latencyP99: results.latencyP99 };
  const days = 10;
  const filled = await prefillHistory(
    Array.from({ length: days }, (_, i) => i + 2),
    Math.ceil(opts['history-deliveries'] / days),
    'bench-history',
  );
  const bytes = await storageBytes();
  const rate = (await measureThroughput()).hubRate;
  const lat = await steadyLoad({ withDeadEndpoint: false });
  emit({
    scenario: 'history',
    prefilled_deliveries: filled.rows,
    prefill_seconds: filled.seconds,
    database_gb: round((bytes.events + bytes.deliveries + bytes.delivery_attempts) / 2 ** 30),
    hub: { deliveries_per_s: Math.round(rate), latency_p99_ms: lat.p99_ms, latency_p50_ms: lat.p50_ms },
    empty_database: { deliveries_per_s: Math.round(empty.throughput), latency_p99_ms: empty.latencyP99 },
    throughput_ratio: round(rate / empty.throughput),
    latency_p99_ratio: round(lat.p99_ms / Math.max(1, empty.latencyP99)),
    target: 'throughput_ratio >= 0.9 and latency_p99_ratio <= 1.2',
    met: rate / empty.throughput >= 0.9 && lat.p99_ms / Math.max(1, empty.latencyP99) <= 1.2,
  });
}

async function retention() {
  const reference = results.latencyP99;
  // Two days past the 30-day retention: the dispatcher's first retention run (5 s after it starts) archives and drops them.
  const expired = await prefillHistory([41, 40], Math.ceil(opts['retention-deliveries'] / 2), 'bench-retention');
  // A tenant that keeps 5 days: its rows of 10 and 11 days ago go by bounded row deletes in the same run.
  const short = await prefillHistory([11, 10], Math.ceil(opts['retention-deliveries'] / 4), 'bench-retention-tenant');
  await db.query(`UPDATE tenants SET events_retention_days = 5, deliveries_retention_days = 5 WHERE id = $1`, [short.tenant]);
  const archiveDir = join(workDir, 'archive');
  const before = (await db.query(`SELECT coalesce(max(id), 0) AS id FROM retention_runs`)).rows[0].id;
  const hub = await steadyLoad({
    withDeadEndpoint: false,
    seconds: opts['retention-seconds'],
    dispatcherEnv: { RETENTION_INTERVAL_MS: 5_000, ARCHIVE_TARGET: 'directory', ARCHIVE_DIR: archiveDir },
  });
  const run = (
    await db.query(`SELECT started_at, finished_at, summary, error FROM retention_runs WHERE id > $1 AND summary->'dropped' <> '[]' ORDER BY id LIMIT 1`, [
      before,
    ])
  ).rows[0];
  const manifests = [];
  for (const ago of [41, 40]) {
    const day = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - ago * 86_400_000).toISOString().slice(0, 10);
    const file = join(archiveDir, ...day.split('-'), 'manifest.json');
    if (existsSync(file)) manifests.push(JSON.parse(readFileSync(file, 'utf8')));
  }
  const files = manifests.flatMap((m) => m.files);
  emit({
    scenario: 'retention',
    expired_deliveries: expired.rows,
    hub: { p50_ms: hub.p50_ms, p99_ms: hub.p99_ms, max_ms: hub.max_ms, delivered_per_s: hub.delivered_per_s },
    retention_run: run && {
      seconds: round((run.finished_at - run.started_at) / 1000, 1),
      partitions_seconds: round(run.summary.partitionsMs / 1000, 1),
      dropped: run.summary.dropped?.length,
      archived: run.summary.archived?.length,
      tenant_rows_deleted: Object.values(run.summary.deleted ?? {}).reduce((n, d) => n + d.events + d.deliveries + d.delivery_attempts, 0),
      tenant_deletes_seconds: round(run.summary.deletesMs / 1000, 1),
      error: run.error,
    },
    export_seconds: round(files.reduce((n, f) => n + f.exportMs, 0) / 1000, 1),
    archived_rows: files.reduce((n, f) => n + f.rows, 0),
    archived_mb: round(files.reduce((n, f) => n + f.bytes, 0) / 2 ** 20, 1),
    latency_scenario_p99_ms: reference,
    ratio: round(hub.p99_ms / Math.max(1, reference)),
    target: 'p99 while dropping and archiving <= 1.5x the latency scenario p99',
    met: Boolean(run) && hub.p99_ms <= 1.5 * Math.max(1, reference),
  });
}

/**
 * `POST /v1/events` at `rate` events/s (ten at a time every ten milliseconds), each event's data carrying
 * `sent_at` for the receiver's latency; resolves once every request is answered.
 */
async function postPaced(pool, key, { count, rate, idPrefix, filler }) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const requests = [];
  const latencies = [];
  let rejected = 0;
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0) {
      const due = started + (i * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    const ticket = `t-${String(i % opts.tickets).padStart(6, '0')}`;
    const body = JSON.stringify({
      id: `${idPrefix}${i}`,
      type: 'ticket.updated',
      model_id: ticket,
      data: { changes: {}, sent_at: Date.now() },
      model: { id: ticket, subject: 'Refund request', state: 'open', description: filler },
    });
    const sent = performance.now();
    requests.push(
      pool.request({ method: 'POST', path: '/v1/events', headers, body }).then(async (r) => {
        await r.body.text();
        latencies.push(performance.now() - sent);
        if (r.statusCode !== 202) rejected++;
      }),
    );
  }
  await Promise.all(requests);
  latencies.sort((a, b) => a - b);
  return { started, rejected, request_p50_ms: round(pct(latencies, 0.5), 1), request_p99_ms: round(pct(latencies, 0.99), 1) };
}

/** A world with tracing as `appEnv` sets it, one tenant and subscription, warmed up by `--warmup` seconds of the load. */
async function startTracedWorld(appEnv) {
  const world = await startWorld({ appEnv });
  const pool = new Pool(world.apps.subscriptions.url, { connections: 64, pipelining: 1 });
  const t = await world.api.tenant(`bench-tracing-${worldCount}`);
  const label = `trc${worldCount}`;
  const [sid] = await world.api.subscribe(t.key, [`${receiverUrl}/${label}/hook`]);
  const w = { world, pool, key: t.key, label, sid, events: 0, phases: 0 };
  const count = Math.round(opts.rate * opts.warmup);
  if (count > 0) {
    const warmed = waitReceived(label, count, 300_000);
    await postPaced(pool, t.key, { count, rate: opts.rate, idPrefix: 'w', filler: modelFiller(opts.body) });
    await warmed;
    await persisted([sid], count);
    w.events = count;
  }
  return w;
}

/** One measured phase in a traced world: `--rate` events/s for `--seconds` through the API to its subscription. */
async function tracedPhase(w) {
  const n = opts.rate * opts.seconds;
  receiver.send({ type: 'forget', label: w.label });
  const stopCpu = await cpuMeter(w.world);
  const received = waitReceived(w.label, n, 300_000);
  const { started, ...requests } = await postPaced(w.pool, w.key, { count: n, rate: opts.rate, idPrefix: `p${++w.phases}-`, filler: modelFiller(opts.body) });
  const got = await received;
  w.events += n;
  await persisted([w.sid], w.events);
  const cpu = await stopCpu();
  const lat = got.latencies.sort((a, b) => a - b);
  const apps = cpu.subscriptions + cpu.dispatcher;
  return {
    delivered_per_s: Math.round(n / ((got.last - started) / 1000)),
    p50_ms: pct(lat, 0.5),
    p99_ms: pct(lat, 0.99),
    ...requests,
    traced_requests: got.traced,
    // CPU seconds per 1,000 events: the two apps (where tracing runs), and with PostgreSQL and NATS (the machine's share of the hub).
    apps_cpu_s_per_1000: round((apps / n) * 1000, 3),
    hub_cpu_s_per_1000: round(((apps + cpu.postgres + cpu.nats) / n) * 1000, 3),
    cpu_s: cpu,
  };
}

/**
 * Tracing on, exporting every span over OTLP/HTTP (protobuf, the SDK's default batching) to a local sink
 * (bench/otlp-sink.mjs, a collector stand-in that counts what it gets), against tracing off: two worlds side
 * by side, identical but for tracing, loaded in turn (`--rate` events/s through POST /v1/events for
 * `--seconds`, one subscription) in ABBA order over `--tracing-rounds` rounds, so that both see the same
 * machine (its other load moves CPU per event by more than tracing costs). At a load the hub keeps up with,
 * the delivered rate hardly moves; what tracing costs is CPU, so `ratio` is the apps' CPU per event off ÷ on:
 * the share of its throughput a CPU-bound pod keeps with tracing on (target >= 0.9, a cost of at most 10 %).
 * `delivered_ratio` is the delivered rates' at the offered load.
 */
async function tracing() {
  const sink = fork(join(ROOT, 'bench', 'otlp-sink.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(sink);
  const port = await new Promise((r) => sink.once('message', (m) => r(m.port)));
  const sinkStats = () =>
    new Promise((res) => {
      const reqId = ++ipcSeq;
      const on = (m) => {
        if (m.id !== reqId) return;
        sink.off('message', on);
        res(m.stats);
      };
      sink.on('message', on);
      sink.send({ type: 'stats', id: reqId });
    });
  const runs = { off: [], on: [] };
  const worlds = {};
  let spans;
  try {
    // `--set=OTEL_…=…` (e.g. the batch processor's settings) applies to both apps of the traced world.
    const otel = Object.fromEntries(Object.entries(extraEnv).filter(([k]) => k.startsWith('OTEL_')));
    worlds.off = await startTracedWorld({});
    worlds.on = await startTracedWorld({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, ...otel });
    const sinkCpu = cpuSeconds(sink.pid);
    for (let r = 0; r < opts['tracing-rounds']; r++) {
      for (const mode of r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        log(`tracing ${mode}, round ${r + 1}`);
        runs[mode].push(await tracedPhase(worlds[mode]));
      }
    }
    const events = worlds.on.events;
    // Stopped first: its last spans are flushed at shutdown.
    await worlds.on.pool.close();
    await worlds.on.world.stop();
    const stats = await sinkStats();
    spans = {
      events,
      exports: stats.requests,
      spans: stats.spans,
      spans_per_event: round(stats.spans / events, 2),
      bytes_per_span: stats.spans ? Math.round(stats.bytes / stats.spans) : null,
      names: stats.names,
      sink_cpu_s: round(cpuSeconds(sink.pid) - sinkCpu, 1),
    };
  } finally {
    for (const w of [worlds.off, worlds.on]) {
      if (!w) continue;
      await w.pool.close().catch(() => undefined);
      await w.world.stop().catch(() => undefined);
    }
    sink.send({ type: 'exit' });
    children.delete(sink);
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const med = (mode, key) => median(runs[mode].map((x) => x[key]));
  const ratio = med('off', 'apps_cpu_s_per_1000') / med('on', 'apps_cpu_s_per_1000');
  const hubRatio = med('off', 'hub_cpu_s_per_1000') / med('on', 'hub_cpu_s_per_1000');
  const deliveredRatio = med('on', 'delivered_per_s') / med('off', 'delivered_per_s');
  emit({
    scenario: 'tracing',
    rate: opts.rate,
    seconds: opts.seconds,
    rounds: opts['tracing-rounds'],
    off: runs.off,
    on: runs.on,
    exported: spans,
    ratio: round(ratio),
    hub_ratio: round(hubRatio),
    delivered_ratio: round(deliveredRatio),
    p99_ms: { off: med('off', 'p99_ms'), on: med('on', 'p99_ms') },
    target: 'ratio >= 0.9 (apps CPU per event, off / on: tracing costs at most 10 % of throughput) and delivered_ratio >= 0.9',
    met: ratio >= 0.9 && deliveredRatio >= 0.9,
    note: 'POST /v1/events -> JetStream -> fan-out -> attempt; on: every span exported over OTLP/HTTP protobuf to a local sink; two worlds loaded in turn',
  });
}

/** The most of `times` (ms) in any window `[t, t + windowMs)`. */
function mostInWindow(times, windowMs = 1000) {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/**
 * Rate limits (#15): `--rate-pods` dispatchers, one tenant's events at `--rate-feed`/s for `--rate-seconds`
 * to two subscriptions, one limited to `--rate-limit`/s with `--rate-burst`, the other unlimited; then the
 * same in a world without the limited one. The limited one's rate is its arrivals in `--rate-seconds` from
 * its first (its line grows all along: it is fed ten times its limit), with the most arrivals in any one
 * second of them; the unlimited one's deliveries/s (from the first publish to the last arrival) are compared
 * with the world without the limited one: what the limited one's waiting deliveries cost the others.
 */
async function rateLimit() {
  const pods = opts['rate-pods'];
  const feed = opts['rate-feed'];
  const seconds = opts['rate-seconds'];
  const limit = { per_second: opts['rate-limit'], burst: opts['rate-burst'] };
  const n = feed * seconds;
  const run = async (withLimited) => {
    const world = await startWorld({ dispatchers: pods });
    try {
      const t = await world.api.tenant(`bench-rate-${worldCount}`);
      const freeLabel = `rfree${worldCount}`;
      const cappedLabel = `rcap${worldCount}`;
      const urls = [`${receiverUrl}/${freeLabel}/hook`, ...(withLimited ? [`${receiverUrl}/${cappedLabel}/hook`] : [])];
      const [freeId, cappedId] = await world.api.subscribe(t.key, urls);
      if (withLimited) {
        const r = await world.api.req('PATCH', `/v1/subscriptions/${cappedId}`, t.key, { rate_limit: limit });
        if (r.status !== 200) throw new Error(`rate_limit: ${r.status} ${JSON.stringify(r.body)}`);
      }
      const received = waitReceived(freeLabel, n, 300_000);
      const started = await publish({ tenant: t.id, subject: world.subject(t.id, 'ticket.updated'), count: n, rate: feed, filler: modelFiller(opts.body) });
      const got = await received;
      await persisted([freeId], n);
      const lat = got.latencies.sort((a, b) => a - b);
      const free = {
        delivered_per_s: Math.round(n / ((got.last - started) / 1000)),
        p50_ms: pct(lat, 0.5),
        p99_ms: pct(lat, 0.99),
        duplicates: got.duplicates,
      };
      if (!withLimited) return { free };
      // The limited one: `seconds` from its first arrival, while the dispatchers run on.
      const arrivalsOf = () => receiverCall({ type: 'arrivals', label: cappedLabel }, 'arrivals');
      const first = (await arrivalsOf())[0];
      if (first === undefined) throw new Error('the limited subscription received nothing');
      await sleep(Math.max(0, first + seconds * 1000 + 500 - Date.now()));
      const arrivals = await arrivalsOf();
      const inWindow = arrivals.filter((a) => a < first + seconds * 1000).length;
      const perPod = [];
      let late = 0;
      for (const d of world.apps.dispatchers) {
        perPod.push(await metric(d, 'hookhub_rate_limit_leased_total'));
        late += await metric(d, 'hookhub_rate_limit_late_total');
      }
      const [row] = (
        await db.query(
          `SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered, count(*) FILTER (WHERE status NOT IN ('delivered', 'pending'))::int AS other,
                  count(*) FILTER (WHERE attempt_count > 1)::int AS more_than_one_attempt, count(*) FILTER (WHERE rate_waiting)::int AS waiting
             FROM deliveries WHERE subscription_id = $1`,
          [cappedId],
        )
      ).rows;
      const stats = await receiverStats(cappedLabel);
      // Its line (thousands still waiting) would be paced by the next world's dispatchers, which share the database.
      await world.api.req('POST', `/v1/subscriptions/${cappedId}/disable`, t.key);
      return {
        free,
        capped: {
          rate_per_s: round(inWindow / seconds),
          max_in_1s: mostInWindow(arrivals),
          received: arrivals.length,
          duplicates: stats.duplicates,
          leased_per_pod: perPod,
          late_put_back: late,
          deliveries: row,
        },
      };
    } finally {
      await world.stop();
    }
  };
  const without = await run(false);
  const withLimited = await run(true);
  const ratio = withLimited.free.delivered_per_s / without.free.delivered_per_s;
  const rateMet = Math.abs(withLimited.capped.rate_per_s - limit.per_second) <= 0.1 * limit.per_second;
  const burstMet = withLimited.capped.max_in_1s <= limit.burst;
  emit({
    scenario: 'rate_limit',
    pods,
    feed_per_s: feed,
    seconds,
    limit,
    hub: { limited: withLimited.capped, unlimited: withLimited.free, unlimited_without_the_limited_one: without.free },
    ratio: round(ratio),
    target: `limited within 10 % of ${limit.per_second}/s over ${seconds} s, at most ${limit.burst} in any 1 s; unlimited >= 0.9 x without the limited one`,
    met: rateMet && burstMet && ratio >= 0.9,
  });
}

const RUNNERS = {
  throughput,
  latency,
  fanout,
  fanout_filtered: fanoutFiltered,
  isolation,
  scaleout,
  rest,
  rest_batch: restBatch,
  tracing,
  rate_limit: rateLimit,
  history,
  retention,
};

// ---------------------------------------------------------------- main
let failed = false;
try {
  await setup();
  log(`database ${database}, receiver ${receiverUrl}, scenarios: ${scenarios.join(' ')}`);
  for (const s of scenarios)
    for (let run = 1; run <= opts.repeat; run++) {
      log(`scenario ${s}${opts.repeat > 1 ? ` (run ${run} of ${opts.repeat})` : ''}`);
      try {
        await RUNNERS[s]();
      } catch (err) {
        failed = true;
        log(`scenario ${s} failed:`, err.stack ?? err);
        emit({ scenario: s, error: String(err.message ?? err) });
      }
    }
} finally {
  receiver?.send({ type: 'exit' });
  await cleanup();
}
process.exit(failed ? 1 : 0);
