import { connect, NatsConnection } from 'nats';
import { SubjectNames } from '@hookhub/contracts';
import { anEnvelope } from '@hookhub/testing';
import { Client } from 'pg';
import type { ApiClient } from './hub';
import type { AppProcess } from './processes';
import type { TestReceiver } from './receiver';
import { createSubscription } from './subscriptions';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A tenant, a publisher key and one active subscription to `url` for `eventTypes`. */
export async function setUpTenant(
  api: ApiClient,
  url: string,
  eventTypes: string[],
): Promise<{ tenantId: string; publisherKey: string; subscriptionId: string }> {
  const tenant = await api.createTenant();
  const publisher = await api.createKey(tenant.tenantId, ['publisher']);
  const sub = await createSubscription<{ state: string }>(api, tenant.adminKey, { url, event_types: eventTypes });
  if (sub.state !== 'active') throw new Error(`subscription ${sub.id} is ${sub.state}`);
  return { tenantId: tenant.tenantId, publisherKey: publisher.key, subscriptionId: sub.id };
}

/** Event `i` of a run: a ticket update of its own ticket (so deliveries run in parallel). */
export function ticketEvent(i: number): { id: string; type: string; model_id: string; model: { id: string } & Record<string, unknown> } {
  return { id: `evt-${i}`, type: 'ticket.updated', model_id: `t-${i}`, model: { id: `t-${i}`, state: 'open', subject: `ticket ${i}` } };
}

export interface PublishReport {
  /** Event ids the API answered 202 for (each exactly once, however many tries it took). */
  accepted: Set<string>;
  /** Failed tries (non-202 answers, connection errors, timeouts), each retried with the same id. */
  errors: number;
  /** Ids that needed more than one try. */
  retriedIds: Set<string>;
  /** 202 answers that said `duplicate: true` (JetStream had the id already). */
  duplicates: number;
  /** Distinct error descriptions, for the test log. */
  errorKinds: Map<string, number>;
  /** Longest time from an id's first failed try to its 202. */
  longestStallMs: number;
}

/**
 * Publishes events through `POST /v1/events` with `concurrency` parallel
 * publishers. A publisher that gets anything but 202 waits a little and
 * tries again with the same event id, as the README tells publishers to do.
 * `onAccepted` runs after every 202 (the tests time faults with it).
 */
export async function publishThroughApi(
  api: ApiClient,
  publisherKey: string,
  events: Array<ReturnType<typeof ticketEvent>>,
  options: { concurrency: number; onAccepted?: (count: number) => void; giveUpAfterMs?: number },
): Promise<PublishReport> {
  const report: PublishReport = { accepted: new Set(), errors: 0, retriedIds: new Set(), duplicates: 0, errorKinds: new Map(), longestStallMs: 0 };
  const deadline = Date.now() + (options.giveUpAfterMs ?? 90_000);
  let next = 0;
  const fail = (id: string, kind: string): void => {
    report.errors++;
    report.retriedIds.add(id);
    report.errorKinds.set(kind, (report.errorKinds.get(kind) ?? 0) + 1);
  };
  const worker = async (): Promise<void> => {
    while (next < events.length) {
      const event = events[next++];
      let firstFailure: number | undefined;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`publishing ${event.id} did not succeed before the deadline`);
        try {
          const res = await fetch(`${api.baseUrl}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${publisherKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(event),
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          if (res.status === 202) {
            if ((JSON.parse(text) as { duplicate?: boolean }).duplicate) report.duplicates++;
            report.accepted.add(event.id);
            if (firstFailure !== undefined) report.longestStallMs = Math.max(report.longestStallMs, Date.now() - firstFailure);
            options.onAccepted?.(report.accepted.size);
            break;
          }
          firstFailure ??= Date.now();
          let detail = '';
          try {
            detail = String((JSON.parse(text) as { detail?: string }).detail ?? '').replace(/^.*\((.*)\)$/, '$1');
          } catch {
            /* not a problem document */
          }
          fail(event.id, `HTTP ${res.status}${detail ? ` ${detail}` : ''}`);
        } catch (err) {
          firstFailure ??= Date.now();
          fail(event.id, (err as Error).name === 'TimeoutError' ? 'timeout' : `fetch: ${(err as Error).message}`);
        }
        await sleep(200 + Math.floor(Math.random() * 300));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return report;
}

/**
 * Counts what a receiver gets as it arrives: distinct event ids, distinct
 * delivery ids, and which event each delivery id carried. Optionally fails the
 * first attempt of chosen events (HTTP 500), so their second attempt goes
 * through the retries stream.
 */
export class DeliveryTally {
  /** Events answered 200 at least once. */
  readonly eventIds = new Set<string>();
  readonly deliveryToEvent = new Map<string, string>();
  /** 200 answers per delivery id (> 1: the same delivery sent again after it had succeeded). */
  readonly copies = new Map<string, number>();
  /** Events whose first attempt was answered 500 on purpose. */
  readonly failedOnPurpose = new Set<string>();
  /** A delivery id seen with two different event ids, or a request without the headers: must stay empty. */
  readonly anomalies: string[] = [];
  /** Every request per event: attempt header, answer and time, for diagnosing a missing event. */
  readonly history = new Map<string, string[]>();
  requests = 0;

  /** Replaces the receiver's responder: answers after `delayMs` and tallies each request. */
  constructor(receiver: TestReceiver, delayMs = 0, options: { failFirstAttemptOf?: (eventId: string) => boolean } = {}) {
    receiver.respond = (req) => {
      this.requests++;
      const deliveryId = req.headers['x-webhook-delivery'];
      let eventId: string | undefined;
      try {
        eventId = (req.json() as { id?: string }).id;
      } catch {
        /* recorded below */
      }
      if (typeof deliveryId !== 'string' || !eventId) {
        this.anomalies.push(`request without delivery id or event id: ${req.raw.toString('utf8').slice(0, 200)}`);
        return { status: 200, delayMs };
      }
      const answer = (status: number): void => {
        const h = this.history.get(eventId!) ?? [];
        h.push(`${new Date().toISOString()} attempt ${String(req.headers['x-webhook-attempt'])} delivery ${deliveryId} -> ${status}`);
        this.history.set(eventId!, h);
      };
      const known = this.deliveryToEvent.get(deliveryId);
      if (known !== undefined && known !== eventId) this.anomalies.push(`delivery ${deliveryId} carried ${known} and ${eventId}`);
      this.deliveryToEvent.set(deliveryId, eventId);
      if (req.headers['x-webhook-attempt'] === '1' && options.failFirstAttemptOf?.(eventId)) {
        this.failedOnPurpose.add(eventId);
        answer(500);
        return { status: 500, body: 'failing the first attempt on purpose', delayMs };
      }
      this.copies.set(deliveryId, (this.copies.get(deliveryId) ?? 0) + 1);
      this.eventIds.add(eventId);
      answer(200);
      return { status: 200, delayMs };
    };
  }

  /** Successful sends beyond the first of each delivery id (at-least-once repeats). */
  get duplicates(): number {
    let n = 0;
    for (const c of this.copies.values()) n += c - 1;
    return n;
  }

  /** Resolves once every expected event id arrived; the error names how many are missing. */
  async waitForAll(expected: Set<string>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.eventIds.size < expected.size) {
      if (Date.now() > deadline) {
        const missing = [...expected].filter((id) => !this.eventIds.has(id));
        throw new Error(`receiver has ${this.eventIds.size} of ${expected.size} events after ${timeoutMs} ms; missing e.g. ${missing.slice(0, 10).join(', ')}`);
      }
      await sleep(100);
    }
  }

  /** Waits until `count` distinct events arrived (to time a fault "during delivery"). */
  async waitForCount(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.eventIds.size < count) {
      if (Date.now() > deadline) throw new Error(`receiver has ${this.eventIds.size} of ${count} events after ${timeoutMs} ms`);
      await sleep(20);
    }
  }
}

/**
 * The exact account of a run. At the receiver: exactly the expected event
 * ids, each under exactly one delivery id (a repeat is only ever the same
 * delivery id again). In PostgreSQL: one event row and one `delivered`
 * delivery per event, whose ids are the ones the receiver saw, each with a
 * recorded successful attempt. Waits for the attempt records to settle.
 */
export async function expectExactAccount(tally: DeliveryTally, db: Client, expected: Set<string>, settleMs = 30_000): Promise<void> {
  expect(tally.anomalies).toEqual([]);
  expect(tally.eventIds.size).toBe(expected.size);
  expect([...tally.eventIds].filter((id) => !expected.has(id))).toEqual([]);
  expect(tally.copies.size).toBe(expected.size);
  expect(new Set(tally.deliveryToEvent.values()).size).toBe(expected.size);

  const deadline = Date.now() + settleMs;
  for (;;) {
    const r = await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status ORDER BY status`);
    const settled = r.rows.length === 1 && r.rows[0].status === 'delivered' && r.rows[0].n === expected.size;
    if (settled || Date.now() > deadline) {
      expect(r.rows).toEqual([{ status: 'delivered', n: expected.size }]);
      break;
    }
    await sleep(250);
  }

  const events = await db.query<{ id: string }>(`SELECT id FROM events`);
  expect(events.rows.length).toBe(expected.size);
  expect(new Set(events.rows.map((e) => e.id))).toEqual(expected);

  const deliveries = await db.query<{ id: string; event_id: string; attempt_count: number; successes: number; failures: number }>(
    `SELECT d.id, d.event_id, d.attempt_count,
            count(*) FILTER (WHERE a.outcome = 'success')::int AS successes,
            count(*) FILTER (WHERE a.outcome = 'failure')::int AS failures
       FROM deliveries d LEFT JOIN delivery_attempts a ON a.delivery_id = d.id AND a.delivery_created_at = d.created_at
      GROUP BY d.id, d.created_at`,
  );
  const fromDb = new Map(deliveries.rows.map((d) => [d.id, d.event_id]));
  expect(fromDb).toEqual(tally.deliveryToEvent);
  expect(deliveries.rows.filter((d) => d.successes < 1).map((d) => d.event_id)).toEqual([]);
  // A first attempt failed on purpose is on record, and the delivery succeeded on a later attempt.
  expect(deliveries.rows.filter((d) => tally.failedOnPurpose.has(d.event_id) && (d.failures < 1 || d.attempt_count < 2)).map((d) => d.event_id)).toEqual([]);
}

/** What the apps complained about (pino warn and above), message → count, to show that a fault reached them. */
export function loggedProblems(processes: AppProcess[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of processes) {
    for (const line of p.output.join('').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        if ((entry.level ?? 0) >= 40 && entry.msg) counts[entry.msg] = (counts[entry.msg] ?? 0) + 1;
      } catch {
        /* not a log line */
      }
    }
  }
  return counts;
}

/**
 * Everything known about events that did not arrive: what the receiver saw,
 * their rows in PostgreSQL, the consumers' state and the app log lines that
 * name them. Appended to the error when a test gives up waiting.
 */
export async function describeMissing(
  tally: DeliveryTally,
  expected: Set<string>,
  sources: { databaseUrl: string; natsUrl?: string; prefix?: string; processes?: AppProcess[] },
): Promise<string> {
  const missing = [...expected].filter((id) => !tally.eventIds.has(id)).slice(0, 5);
  const out: string[] = [`missing (first 5): ${missing.join(', ')}`];
  const db = new Client({ connectionString: sources.databaseUrl });
  try {
    await db.connect();
    for (const id of missing) {
      out.push(`-- ${id}: receiver ${JSON.stringify(tally.history.get(id) ?? [])}`);
      out.push(`   event row: ${JSON.stringify((await db.query(`SELECT id, version, recorded_at FROM events WHERE id = $1`, [id])).rows)}`);
      const deliveries = (
        await db.query(`SELECT id, status, attempt_count, reason, next_attempt_at, parked, created_at, updated_at FROM deliveries WHERE event_id = $1`, [id])
      ).rows;
      out.push(`   deliveries: ${JSON.stringify(deliveries)}`);
      for (const d of deliveries as Array<{ id: string }>) {
        const attempts = (
          await db.query(`SELECT attempt, outcome, response_status, error, started_at FROM delivery_attempts WHERE delivery_id = $1 ORDER BY started_at`, [
            d.id,
          ])
        ).rows;
        out.push(`   attempts of ${d.id}: ${JSON.stringify(attempts)}`);
        for (const p of sources.processes ?? []) {
          const lines = p.output
            .join('')
            .split('\n')
            .filter((l) => l.includes(d.id) || l.includes(`"${id}"`));
          if (lines.length > 0) out.push(`   log (port ${p.port}): ${lines.slice(0, 10).join('\n      ')}`);
        }
      }
    }
    out.push(`status counts: ${JSON.stringify((await db.query(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`)).rows)}`);
  } catch (err) {
    out.push(`database: ${String(err)}`);
  } finally {
    await db.end().catch(() => undefined);
  }
  if (sources.natsUrl && sources.prefix) {
    try {
      const nc = await connect({ servers: sources.natsUrl.split(','), reconnect: false, timeout: 2_000 });
      try {
        const jsm = await nc.jetstreamManager();
        const subjects = { events: `${sources.prefix.toUpperCase()}_EVENTS`, retries: `${sources.prefix.toUpperCase()}_RETRIES` };
        for (const [stream, durable] of [
          [subjects.events, 'dispatcher'],
          [subjects.retries, 'retry'],
        ]) {
          const si = await jsm.streams.info(stream);
          const ci = await jsm.consumers.info(stream, durable);
          out.push(
            `${stream}: ${JSON.stringify(si.state)}; ${durable}: pending ${ci.num_pending}, ack_pending ${ci.num_ack_pending}, redelivered ${ci.num_redelivered}, ` +
              `waiting ${ci.num_waiting}, delivered ${JSON.stringify(ci.delivered)}, ack_floor ${JSON.stringify(ci.ack_floor)}`,
          );
        }
      } finally {
        await nc.close();
      }
    } catch (err) {
      out.push(`nats: ${String(err)}`);
    }
  }
  return out.join('\n');
}

/**
 * Publishes events straight to JetStream as a trusted service would (the documented subject and
 * message id scheme), `chunk` at a time, each awaited until JetStream stored it. Returns the ids
 * stored anew (JetStream did not already hold them).
 */
export async function publishToJetStream(
  nc: NatsConnection,
  prefix: string,
  tenantId: string,
  events: Array<ReturnType<typeof ticketEvent>>,
  chunk = 100,
): Promise<Set<string>> {
  const subjects = new SubjectNames(prefix);
  const js = nc.jetstream();
  const stored = new Set<string>();
  for (let i = 0; i < events.length; i += chunk) {
    await Promise.all(
      events.slice(i, i + chunk).map(async (e) => {
        const envelope = anEnvelope({ id: e.id, account_id: tenantId, type: e.type, model_id: e.model_id, model: e.model });
        const ack = await js.publish(subjects.event(tenantId, e.type), JSON.stringify(envelope), { msgID: SubjectNames.eventMsgId(tenantId, e.id) });
        if (!ack.duplicate) stored.add(e.id);
      }),
    );
  }
  return stored;
}
