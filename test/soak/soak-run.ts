import { SubjectNames } from '@hookhub/contracts';
import { FaultScheduler } from './fault-scheduler';
import type { Ledger } from './ledger';
import { SoakPublishers } from './publishers';
import type { SeededRandom } from './seeded-random';
import { SOAK_SETTINGS, SoakWorld } from './soak-world';
import { judge, owedTo, slopePerMinute, Verdict } from './verdict';
import { sleep } from '../support/faults';

export interface SoakOptions {
  minutes: number;
  /** Events per second, over all ways of publishing. */
  rate: number;
  seed: number;
  /** Longest wait after the faults for the hub to settle everything it owes. */
  quietMs: number;
}

/** Options from SOAK_MINUTES, SOAK_RATE, SOAK_SEED (what `npm run soak -- --minutes … --rate … --seed …` sets). */
export function soakOptions(env: NodeJS.ProcessEnv = process.env): SoakOptions {
  const number = (name: string, fallback: number): number => {
    const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${env[name]}`);
    return value;
  };
  return {
    minutes: number('SOAK_MINUTES', 2),
    rate: number('SOAK_RATE', 15),
    seed: Math.floor(number('SOAK_SEED', 20261130)),
    quietMs: number('SOAK_QUIET_MS', 240_000),
  };
}

export interface SoakReport {
  options: SoakOptions;
  startedAt: string;
  seconds: { faults: number; settling: number };
  faults: { total: number; byKind: Record<string, number>; log: string[]; failures: string[] };
  publishing: { retries: number; givenUp: number };
  verdict: Verdict;
  /** p50/p99 ms from acknowledgement to first arrival, for events acknowledged outside every fault window (+5 s). */
  latencyOutsideFaults: { events: number; p50Ms: number | null; p99Ms: number | null };
  health: { unready: string[]; restarts: Record<string, number> };
  /** For the first lost events: what the event log, the deliveries and the stream hold of each, and the consumer's state. */
  lostDiagnosis: string[];
  /** For strict-order violations: the resource's events, deliveries, attempts and receipts around the two versions. */
  orderDiagnosis: string[];
  /** Each app's RSS: the slope (MiB/min) over its longest lifetime and how long that was, its peak over the run, and its lifetimes. */
  memory: Record<string, { slopeMbPerMin: number; minutes: number; peakMb: number; lastMb: number; lifetimes: number }>;
}

const pct = (sorted: number[], p: number): number | null => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : null);

/** Load and faults for `minutes`, then a quiet period, then the ledger checked against the hub's delivery log. */
export async function runSoak(world: SoakWorld, ledger: Ledger, random: SeededRandom, options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const until = started + options.minutes * 60_000;
  const samples = new Map<string, Array<{ at: number; mb: number; restarts: number }>>();
  const sampler = setInterval(() => {
    for (const app of world.apps) {
      const mb = app.paused ? undefined : app.rssMb();
      if (mb !== undefined) samples.set(app.name, [...(samples.get(app.name) ?? []), { at: Date.now(), mb, restarts: app.restarts }]);
    }
  }, 5_000);

  for (const r of world.receivers) r.startMoods();
  const nc = await world.nats();
  const publishers = new SoakPublishers(
    {
      apiUrls: world.apiUrls,
      publisherKey: world.publisherKey,
      tenantId: world.tenantId,
      js: nc.jetstream({ timeout: 5_000 }),
      subject: (type) => world.subject(type),
      providerUrl: world.providerUrl,
      twilioToken: world.twilioToken,
    },
    ledger,
    random.fork(11),
    { rate: options.rate, tickets: 100, giveUpMs: 120_000, maxInFlight: 2_000 },
  );
  const scheduler = new FaultScheduler(
    {
      apps: world.apps,
      natsNodes: world.cluster.nodes,
      postgres: world.postgres,
      receivers: world.receivers,
      streamLeader: () => world.streamLeader(),
    },
    ledger,
    random.fork(12),
    { gapMs: [3_000, 10_000], maxConcurrent: 2 },
  );
  // Faults stop a little before publishing does, so the last events are not all published into a fault.
  await Promise.all([publishers.run(until), scheduler.run(until - 5_000)]);
  await scheduler.drain();
  await publishers.drain();
  for (const r of world.receivers) r.calm();
  const faultsEnded = Date.now();

  // The quiet period: until every owed delivery exists and none is still pending or retrying.
  const expected = [...ledger.acknowledged.values()].reduce((n, e) => n + owedTo(world.subscriptions, e.type).length, 0);
  const deadline = Date.now() + options.quietMs;
  for (;;) {
    try {
      const db = await world.database();
      const r = await db.query<{ total: number; open: number }>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status IN ('pending', 'retrying'))::int AS open FROM deliveries WHERE tenant_id = $1`,
        [world.tenantId],
      );
      if (r.rows[0].total >= expected && r.rows[0].open === 0) break;
    } catch {
      /* the database may still be recovering */
    }
    if (Date.now() > deadline) break;
    await sleep(2_000);
  }
  clearInterval(sampler);
  const settled = Date.now();

  const unready: string[] = [];
  for (const app of world.apps) if (!(await app.ready())) unready.push(app.name);

  const db = await world.database();
  const deliveries = (
    await db.query<{ id: string; subscription_id: string; event_id: string; status: string; attempt_count: number; reason: string | null }>(
      `SELECT id, subscription_id, event_id, status, attempt_count, reason FROM deliveries WHERE tenant_id = $1`,
      [world.tenantId],
    )
  ).rows.map((d) => ({ id: d.id, subscriptionId: d.subscription_id, eventId: d.event_id, status: d.status, attemptCount: d.attempt_count, reason: d.reason }));
  const attempts = (
    await db.query<{ delivery_id: string; attempt: number; response_status: number | null }>(
      `SELECT a.delivery_id, a.attempt, a.response_status FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = $1`,
      [world.tenantId],
    )
  ).rows.map((a) => ({ deliveryId: a.delivery_id, attempt: a.attempt, responseStatus: a.response_status }));
  const eventIdOf = new Map<string, string>();
  for (const e of ledger.acknowledged.values()) if (e.channel !== 'provider') eventIdOf.set(e.id, e.id);
  const providerEvents = await db.query<{ id: string; model_id: string }>(
    `SELECT id, model_id FROM events WHERE tenant_id = $1 AND type = 'message.delivery_status'`,
    [world.tenantId],
  );
  for (const e of providerEvents.rows) eventIdOf.set(e.model_id, e.id);

  const verdict = judge({
    ledger,
    subscriptions: world.subscriptions,
    deliveries,
    attempts,
    eventIdOf,
    ackWaitMs: SOAK_SETTINGS.DISPATCHER_ACK_WAIT_MS,
    webhookTimeoutMs: SOAK_SETTINGS.WEBHOOK_TIMEOUT_MS,
  });

  const lostDiagnosis = verdict.lostEvents.length ? await diagnoseLost(world, ledger, verdict.lostEvents.slice(0, 5), eventIdOf) : [];
  const orderDiagnosis = await diagnoseOrder(world, ledger, verdict.order.cases.slice(0, 3));

  const byKind: Record<string, number> = {};
  for (const f of ledger.faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const at = (ms: number): string => `+${((ms - started) / 1000).toFixed(1)}s`;

  const inFault = (t: number): boolean => ledger.faults.some((f) => t >= f.startedAt - 1_000 && t <= (f.endedAt ?? faultsEnded) + 5_000);
  const firstArrival = new Map<string, number>();
  for (const r of ledger.receipts)
    if (r.eventId && r.attempt === 1 && !firstArrival.has(`${r.path} ${r.eventId}`)) firstArrival.set(`${r.path} ${r.eventId}`, r.arrivedAt);
  const latencies: number[] = [];
  for (const [key, arrivedAt] of firstArrival) {
    const event = ledger.acknowledged.get(key.split(' ')[1]);
    if (event && !inFault(event.ackedAt) && !inFault(arrivedAt)) latencies.push(Math.max(0, arrivedAt - event.ackedAt));
  }
  latencies.sort((a, b) => a - b);

  // Faults restart every app every few minutes, so each lifetime is judged on its own: the longest one's slope,
  // and the peak over the whole run (which would climb from lifetime to lifetime if something leaked).
  const memory: SoakReport['memory'] = {};
  for (const [name, list] of samples) {
    const lifetimes = new Map<number, typeof list>();
    for (const s of list) lifetimes.set(s.restarts, [...(lifetimes.get(s.restarts) ?? []), s]);
    const longest = [...lifetimes.values()].sort((a, b) => b[b.length - 1].at - b[0].at - (a[a.length - 1].at - a[0].at))[0];
    memory[name] = {
      slopeMbPerMin: Math.round(slopePerMinute(longest) * 100) / 100,
      minutes: Math.round(((longest[longest.length - 1].at - longest[0].at) / 60_000) * 10) / 10,
      peakMb: Math.round(Math.max(...list.map((s) => s.mb))),
      lastMb: Math.round(list[list.length - 1].mb),
      lifetimes: lifetimes.size,
    };
  }

  return {
    options,
    startedAt: new Date(started).toISOString(),
    seconds: { faults: Math.round((faultsEnded - started) / 1000), settling: Math.round((settled - faultsEnded) / 1000) },
    faults: {
      total: ledger.faults.length,
      byKind,
      log: ledger.faults.map((f) => `${at(f.startedAt)}..${f.endedAt ? at(f.endedAt) : '?'} ${f.kind} ${f.target}: ${f.detail}`),
      failures: scheduler.failures,
    },
    publishing: { retries: ledger.publishRetries, givenUp: ledger.unacknowledged },
    verdict,
    latencyOutsideFaults: { events: latencies.length, p50Ms: pct(latencies, 0.5), p99Ms: pct(latencies, 0.99) },
    health: { unready, restarts: Object.fromEntries(world.apps.map((a) => [a.name, a.restarts])) },
    lostDiagnosis,
    orderDiagnosis,
    memory,
  };
}

/**
 * What PostgreSQL and the ledger hold about each strict-order violation, from the version before the
 * earlier one to the one after the later: every event row of those versions (a second row of one event
 * would show here), the deliveries to the subscription with their times and state, their attempts, and
 * the requests the receiver got for them.
 */
async function diagnoseOrder(world: SoakWorld, ledger: Ledger, cases: Verdict['order']['cases']): Promise<string[]> {
  const out: string[] = [];
  for (const c of cases) {
    try {
      const db = await world.database();
      const [low, high] = [Math.min(...c.versions) - 1, Math.max(...c.versions) + 1];
      const events = await db.query(
        `SELECT id, version, recorded_at, created_at FROM events WHERE tenant_id = $1 AND model_id = $2 AND version BETWEEN $3 AND $4 ORDER BY version`,
        [world.tenantId, c.modelId, low, high],
      );
      const deliveries = await db.query<{ id: string }>(
        `SELECT d.id, d.event_id, d.resource_version, d.status, d.attempt_count, d.parked, d.next_attempt_at, d.reason, d.created_at, d.updated_at
           FROM deliveries d WHERE d.subscription_id = $1 AND d.event_id = ANY($2) ORDER BY d.resource_version, d.created_at`,
        [c.subscriptionId, events.rows.map((e: { id: string }) => e.id)],
      );
      const ids = deliveries.rows.map((d) => d.id);
      const attempts = await db.query(
        `SELECT delivery_id, attempt, outcome, started_at, duration_ms, response_status, error FROM delivery_attempts WHERE delivery_id = ANY($1) ORDER BY started_at`,
        [ids],
      );
      const receipts = ledger.receipts
        .filter((r) => ids.includes(r.deliveryId))
        .map((r) => ({
          delivery: r.deliveryId,
          v: r.resourceVersion,
          attempt: r.attempt,
          arrived: new Date(r.arrivedAt).toISOString(),
          mood: r.mood,
          status: r.status,
        }));
      out.push(
        `${c.modelId} v${c.versions[0]} after v${c.versions[1]}: events ${JSON.stringify(events.rows)}; deliveries ${JSON.stringify(deliveries.rows)}; ` +
          `attempts ${JSON.stringify(attempts.rows)}; receipts ${JSON.stringify(receipts)}`,
      );
    } catch (err) {
      out.push(`${c.modelId}: database: ${(err as Error).message}`);
    }
  }
  return out;
}

/**
 * What is known of lost events while the world still runs: the event row and
 * its deliveries in PostgreSQL, the message on the events stream (found by its
 * `Nats-Msg-Id`), and the durable consumer's position. It tells a message
 * JetStream never kept from one the consumer passed over or the hub dropped.
 */
async function diagnoseLost(world: SoakWorld, ledger: Ledger, ids: string[], eventIdOf: Map<string, string>): Promise<string[]> {
  const out: string[] = [];
  const subjects = new SubjectNames(world.env.prefix);
  try {
    const nc = await world.nats();
    const jsm = await nc.jetstreamManager({ timeout: 5_000 });
    const si = await jsm.streams.info(subjects.eventsStream);
    const ci = await jsm.consumers.info(subjects.eventsStream, 'dispatcher');
    out.push(
      `stream ${JSON.stringify(si.state)} leader ${si.cluster?.leader}; consumer delivered ${JSON.stringify(ci.delivered)} ack_floor ${JSON.stringify(ci.ack_floor)} ` +
        `pending ${ci.num_pending} ack_pending ${ci.num_ack_pending} redelivered ${ci.num_redelivered}`,
    );
    const wanted = new Map(ids.map((id) => [`${world.tenantId}:${eventIdOf.get(id) ?? id}`, id]));
    const found = new Map<string, string>();
    // The whole stream (nats-server 2.9 takes no list of filter subjects: an ordered consumer asking for two
    // is never created, and waits for ever), for at most a minute.
    const reader = await nc.jetstream().consumers.get(subjects.eventsStream);
    const messages = await reader.consume({ max_messages: 500 });
    const timer = setTimeout(() => void messages.close(), 60_000);
    for await (const m of messages) {
      const id = wanted.get(m.headers?.get('Nats-Msg-Id') ?? '');
      if (id) found.set(id, `seq ${m.seq} stored ${new Date(m.info.timestampNanos / 1e6).toISOString()} redelivered ${m.redelivered}`);
      if (m.info.pending === 0 || found.size === wanted.size) break;
    }
    clearTimeout(timer);
    await messages.close();
    for (const id of ids) out.push(`${id}: on the stream: ${found.get(id) ?? 'not found'}`);
  } catch (err) {
    out.push(`nats: ${(err as Error).message}`);
  }
  try {
    const db = await world.database();
    for (const id of ids) {
      const event = ledger.acknowledged.get(id);
      const eventId = eventIdOf.get(id) ?? id;
      const rows = await db.query(`SELECT id, version, recorded_at FROM events WHERE tenant_id = $1 AND id = $2`, [world.tenantId, eventId]);
      const deliveries = await db.query(`SELECT id, subscription_id, status, attempt_count, reason, created_at FROM deliveries WHERE event_id = $1`, [eventId]);
      out.push(`${id}: acknowledged ${JSON.stringify(event)}; event rows ${JSON.stringify(rows.rows)}; deliveries ${JSON.stringify(deliveries.rows)}`);
    }
  } catch (err) {
    out.push(`database: ${(err as Error).message}`);
  }
  return out;
}
