import { eventTypeMatches } from '@hookhub/contracts';
import type { Fault, FaultKind, Ledger, PublishChannel, Receipt } from './ledger';

/** A subscription as the soak set it up. */
export interface SoakSubscription {
  id: string;
  name: string;
  /** Event type patterns (`ticket.*`, `message.delivery_status`). */
  eventTypes: string[];
  ordering: 'default' | 'strict';
}

/** The hub's delivery log at the end, as read from PostgreSQL. */
export interface LoggedDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  status: string;
  attemptCount: number;
  reason: string | null;
}

export interface LoggedAttempt {
  deliveryId: string;
  attempt: number;
  responseStatus: number | null;
}

export interface VerdictInput {
  ledger: Ledger;
  subscriptions: SoakSubscription[];
  deliveries: LoggedDelivery[];
  attempts: LoggedAttempt[];
  /** The hub's event id of each acknowledged ledger entry (a provider callback's is derived by the hub). */
  eventIdOf: Map<string, string>;
  ackWaitMs: number;
  webhookTimeoutMs: number;
}

export interface Duplicate {
  deliveryId: string;
  receiver: string;
  arrivedAt: number;
  attempt: number;
  /** The request the receiver accepted first: its attempt, arrival and answer. */
  accepted: { attempt: number; arrivedAt: number; answeredAt: number | null };
  /** What explains it: the fault kind (and target) nearest before it, `late answer`, or null. */
  cause: string | null;
}

export interface Verdict {
  acknowledged: Record<PublishChannel, number>;
  expectedDeliveries: number;
  reached: number;
  deadLettered: number;
  /** Owed deliveries that neither reached their receiver nor were dead-lettered, each with what is known. */
  lost: string[];
  /** The ledger ids of the events with a lost delivery. */
  lostEvents: string[];
  requests: number;
  duplicates: { count: number; rate: number; byCause: Record<string, number>; unexplained: Duplicate[] };
  order: {
    resourcesChecked: number;
    violations: string[];
    /** The same violations as data: the subscription, the resource, and the two versions accepted out of order. */
    cases: Array<{ subscriptionId: string; modelId: string; versions: [number, number] }>;
  };
  /** Where the delivery log and the ledger disagree in a way no fault explains. */
  disagreements: string[];
  /** Disagreements a fault explains (a 2xx the hub could not record before a crash), by kind. */
  explainedDisagreements: number;
}

/** The subscriptions an event of `type` is owed to. */
export function owedTo(subscriptions: SoakSubscription[], type: string): SoakSubscription[] {
  return subscriptions.filter((s) => s.eventTypes.some((p) => eventTypeMatches(p, type)));
}

/** Faults that can make the hub send a delivery again after the receiver accepted it. */
const REDELIVERY_FAULTS: FaultKind[] = ['app-kill', 'app-term', 'app-stop', 'nats-kill', 'postgres-restart'];

/**
 * A receiver that went away right after it answered: its connections were
 * reset, so its 2xx may never have reached the hub, which then tries again.
 */
export function lostAnswer(faults: Fault[], accepted: Receipt): Fault | undefined {
  if (accepted.answeredAt === null) return undefined;
  const answeredAt = accepted.answeredAt;
  return faults.find(
    (f) => f.kind === 'receiver-gone' && f.target === `receiver ${accepted.receiver}` && f.startedAt >= answeredAt - 50 && f.startedAt - answeredAt <= 1_000,
  );
}

/**
 * The fault that explains a repeat of something the receiver had accepted at
 * `acceptedAt` and got again at `repeatedAt`: one that began at most `ack_wait`
 * (plus the longest fault) before the repeat and had not ended more than
 * `ack_wait` before the acceptance. The hub sends again only after a crash, a
 * stall or a lost acknowledgement, when the event comes back from JetStream;
 * a pod stopped for longer than `ack_wait` finishes its old copies after it
 * resumes, while another pod already has them.
 */
export function explainingFault(faults: Fault[], acceptedAt: number, repeatedAt: number, ackWaitMs: number): Fault | undefined {
  const horizon = ackWaitMs + 60_000;
  return faults
    .filter((f) => REDELIVERY_FAULTS.includes(f.kind) && !f.target.startsWith('subscriptions') && !f.target.startsWith('provider-ingest'))
    .filter((f) => f.startedAt <= repeatedAt && (f.endedAt ?? Infinity) >= acceptedAt - ackWaitMs - 5_000 && repeatedAt - f.startedAt <= horizon)
    .sort((a, b) => b.startedAt - a.startedAt)[0];
}

/** Checks the ledger against the delivery log: nothing lost, every duplicate explained, strict order held, the log true. */
export function judge(input: VerdictInput): Verdict {
  const { ledger, subscriptions, ackWaitMs, webhookTimeoutMs } = input;
  const receiptsByDelivery = new Map<string, Receipt[]>();
  for (const r of ledger.receipts) {
    const list = receiptsByDelivery.get(r.deliveryId) ?? [];
    list.push(r);
    receiptsByDelivery.set(r.deliveryId, list);
  }
  for (const list of receiptsByDelivery.values()) list.sort((a, b) => a.arrivedAt - b.arrivedAt);
  const accepted = (r: Receipt): boolean => r.status !== null && r.status >= 200 && r.status < 300;
  const firstAccepted = (deliveryId: string): Receipt | undefined => receiptsByDelivery.get(deliveryId)?.find(accepted);
  const delivery = new Map(input.deliveries.map((d) => [`${d.subscriptionId} ${d.eventId}`, d]));

  const acknowledged: Record<PublishChannel, number> = { api: 0, 'api-batch': 0, jetstream: 0, provider: 0 };
  const lost: string[] = [];
  const lostEvents = new Set<string>();
  const disagreements: string[] = [];
  let explainedDisagreements = 0;
  let expected = 0;
  let reached = 0;
  let deadLettered = 0;
  const modelOfEvent = new Map<string, string>();
  for (const event of ledger.acknowledged.values()) {
    acknowledged[event.channel]++;
    const eventId = input.eventIdOf.get(event.id);
    if (eventId) modelOfEvent.set(eventId, event.modelId);
    for (const sub of owedTo(subscriptions, event.type)) {
      expected++;
      const what = `${event.channel} event ${event.id} (acknowledged ${new Date(event.ackedAt).toISOString()}) for ${sub.name}`;
      const d = eventId ? delivery.get(`${sub.id} ${eventId}`) : undefined;
      if (!d) {
        lost.push(`${what}: ${eventId ? 'no delivery in the log' : 'no event in the log'}`);
        lostEvents.add(event.id);
        continue;
      }
      const got = firstAccepted(d.id);
      if (got) {
        reached++;
        if (d.status !== 'delivered') {
          // The receiver took it but the log says otherwise: only a crash between the 2xx and its record explains it.
          const fault = explainingFault(ledger.faults, got.arrivedAt, got.arrivedAt + ackWaitMs, ackWaitMs);
          if (fault) explainedDisagreements++;
          else disagreements.push(`${what}: the receiver answered ${got.status} at attempt ${got.attempt}, the log says ${d.status}`);
        }
      } else if (d.status === 'failed' && d.reason) {
        deadLettered++;
      } else {
        const answers = (receiptsByDelivery.get(d.id) ?? []).map((r) => `${r.attempt}:${r.mood}:${r.status ?? '-'}`);
        lost.push(`${what}: delivery ${d.id} is ${d.status} after ${d.attemptCount} attempts; the receiver saw ${answers.join(' ') || 'nothing'}`);
        lostEvents.add(event.id);
      }
    }
  }

  // One delivery per event and subscription: a second one is sent as its own, outside the first's order and duplicate count.
  const perPair = new Map<string, string[]>();
  for (const d of input.deliveries) perPair.set(`${d.subscriptionId} ${d.eventId}`, [...(perPair.get(`${d.subscriptionId} ${d.eventId}`) ?? []), d.id]);
  for (const [pair, ids] of perPair)
    if (ids.length > 1) disagreements.push(`event ${pair.split(' ')[1]} has ${ids.length} deliveries to one subscription: ${ids.join(', ')}`);

  // Every delivery the log calls delivered was accepted by its receiver, and every attempt with an HTTP status was answered so.
  const known = new Set(input.deliveries.map((d) => d.id));
  for (const d of input.deliveries) {
    if (d.status === 'delivered' && !firstAccepted(d.id)) disagreements.push(`delivery ${d.id} is delivered in the log, its receiver never accepted it`);
  }
  for (const a of input.attempts) {
    if (a.responseStatus === null || !known.has(a.deliveryId)) continue;
    const seen = (receiptsByDelivery.get(a.deliveryId) ?? []).some((r) => r.attempt === a.attempt && r.status === a.responseStatus);
    if (!seen) disagreements.push(`delivery ${a.deliveryId} attempt ${a.attempt}: the log has HTTP ${a.responseStatus}, the receiver answered no such attempt`);
  }

  // Duplicates: a request for a delivery its receiver had already accepted.
  const duplicates: Duplicate[] = [];
  for (const [deliveryId, list] of receiptsByDelivery) {
    const first = list.find(accepted);
    if (!first) continue;
    for (const r of list.filter((x) => x.arrivedAt > first.arrivedAt || (x !== first && x.arrivedAt === first.arrivedAt))) {
      const late = first.answeredAt !== null && first.answeredAt - first.arrivedAt >= webhookTimeoutMs - 250;
      const fault = explainingFault(ledger.faults, first.arrivedAt, r.arrivedAt, ackWaitMs) ?? lostAnswer(ledger.faults, first);
      duplicates.push({
        deliveryId,
        receiver: r.receiver,
        arrivedAt: r.arrivedAt,
        attempt: r.attempt,
        accepted: { attempt: first.attempt, arrivedAt: first.arrivedAt, answeredAt: first.answeredAt },
        cause: late ? 'late answer' : fault ? `${fault.kind} ${fault.target}` : null,
      });
    }
  }
  const byCause: Record<string, number> = {};
  for (const d of duplicates) {
    const kind = d.cause === null ? 'unexplained' : d.cause.split(' ')[0] === 'late' ? 'late answer' : d.cause.split(' ')[0];
    byCause[kind] = (byCause[kind] ?? 0) + 1;
  }

  // Strict order: per resource, the first accepted requests of its deliveries arrive in resource-version order.
  const violations: string[] = [];
  const cases: Verdict['order']['cases'] = [];
  let resourcesChecked = 0;
  const deliveryById = new Map(input.deliveries.map((d) => [d.id, d]));
  for (const sub of subscriptions.filter((s) => s.ordering === 'strict')) {
    const perResource = new Map<string, Receipt[]>();
    for (const d of input.deliveries.filter((x) => x.subscriptionId === sub.id)) {
      const first = firstAccepted(d.id);
      const model = modelOfEvent.get(d.eventId);
      if (!first || first.resourceVersion === null || !model) continue;
      perResource.set(model, [...(perResource.get(model) ?? []), first]);
    }
    for (const [model, list] of perResource) {
      resourcesChecked++;
      list.sort((a, b) => a.arrivedAt - b.arrivedAt);
      for (let i = 1; i < list.length; i++) {
        if (list[i].resourceVersion! < list[i - 1].resourceVersion!) {
          const ev = (r: Receipt): string => `v${r.resourceVersion} (${deliveryById.get(r.deliveryId)?.eventId}) at ${new Date(r.arrivedAt).toISOString()}`;
          violations.push(`${sub.name} ${model}: ${ev(list[i])} after ${ev(list[i - 1])}`);
          cases.push({ subscriptionId: sub.id, modelId: model, versions: [list[i].resourceVersion!, list[i - 1].resourceVersion!] });
        }
      }
    }
  }

  return {
    acknowledged,
    expectedDeliveries: expected,
    reached,
    deadLettered,
    lost,
    lostEvents: [...lostEvents],
    requests: ledger.receipts.length,
    duplicates: {
      count: duplicates.length,
      rate: ledger.receipts.length ? duplicates.length / ledger.receipts.length : 0,
      byCause,
      unexplained: duplicates.filter((d) => d.cause === null),
    },
    order: { resourcesChecked, violations, cases },
    disagreements,
    explainedDisagreements,
  };
}

/** Least-squares slope of (time ms, MiB) samples, in MiB per minute. */
export function slopePerMinute(samples: Array<{ at: number; mb: number }>): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((s, p) => s + p.at, 0) / n;
  const my = samples.reduce((s, p) => s + p.mb, 0) / n;
  const num = samples.reduce((s, p) => s + (p.at - mx) * (p.mb - my), 0);
  const den = samples.reduce((s, p) => s + (p.at - mx) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 60_000;
}
