import { EventCatalogue } from '@hookhub/contracts';
import type { EventTypeRegistry } from '@hookhub/event-catalogue';
import type {
  LeasedDelivery,
  RateBudgetState,
  RateLease,
  RateLeasePlan,
  RateLineRepository,
  SubscriptionEntity,
  SubscriptionRepository,
} from '@hookhub/persistence';
import { anEnvelope } from '@hookhub/testing';
import { DeliveryAdmission } from './admission';
import type { AttemptSender, DeliveryJob } from './attempt-sender';
import type { AttemptSettlement } from './attempt-settlement';
import type { DeliveryMetrics } from './delivery-metrics';
import type { DeliverySettings } from './delivery.settings';
import { RateLine } from './rate-line';
import type { SenderPermissions } from './sender-permissions';
import { SubscriptionLoad, SubscriptionSlot } from './subscription-load';

/** PostgreSQL's clock runs this far ahead of the process's: send times are converted, not taken as local times. */
const DB_AHEAD_MS = 5_000;
const SUB = 'sub-1';

const delivery = (n: number): LeasedDelivery => ({
  id: `del-${n}`,
  tenantId: 'ten-1',
  subscriptionId: SUB,
  status: 'pending',
  attemptCount: 0,
  resourceVersion: 1,
  rateSeq: BigInt(n),
  envelope: anEnvelope({ id: `evt-${n}` }),
  schemaVersion: 1,
  changeStatus: 'UPDATE',
  traceParent: null,
});

/** A line of `length` deliveries behind a 10/s budget (burst 10: one every 100 ms), leased as the repository does. */
function world(length: number) {
  let line = Array.from({ length }, (_, i) => delivery(i + 1));
  let nextSlotAtMs = 0;
  const leases: number[] = [];
  const givenBack: string[] = [];
  const sent: Array<{ id: string; at: number }> = [];
  let outcome: RateLease['kind'] = 'leased';
  const repo = {
    lease: async (_id: string, _holdMs: number, plan: (b: RateBudgetState) => RateLeasePlan): Promise<RateLease> => {
      if (outcome !== 'leased') return { kind: outcome } as RateLease;
      const nowMs = Date.now() + DB_AHEAD_MS;
      const decided = plan({ limit: { perSecond: 10, burst: 10 }, nextSlotAtMs, nowMs });
      const taken = line.slice(0, decided.count);
      line = line.slice(taken.length);
      nextSlotAtMs = decided.commit(taken.length) ?? nextSlotAtMs;
      leases.push(Date.now());
      return { kind: 'leased', deliveries: taken, asked: decided.count, nowMs, localNowMs: Date.now() };
    },
    join: async () => [],
    giveBack: async (ds: Array<{ deliveryId: string }>) => {
      givenBack.push(...ds.map((d) => d.deliveryId));
      return [];
    },
    waitingLines: async () => [],
  } as unknown as RateLineRepository;
  const subscription = { id: SUB, tenantId: 'ten-1', ratePerSecond: 10, rateBurst: 10, format: 'full' } as SubscriptionEntity;
  const subscriptions = { findByIds: async () => new Map([[SUB, subscription]]) } as unknown as SubscriptionRepository;
  const admission = new DeliveryAdmission(new SubscriptionLoad({ maxConcurrentRequests: 8, maxPerSubscription: 4 } as DeliverySettings));
  const sender = {
    send: async (job: DeliveryJob, slot: SubscriptionSlot) => {
      sent.push({ id: job.deliveryId, at: Date.now() });
      slot.release();
      return { kind: 'sent', result: { ok: true }, headers: {} };
    },
  } as unknown as AttemptSender;
  const settlement = { settle: async () => ({ status: 'delivered', result: null, reason: null }) } as unknown as AttemptSettlement;
  const catalogue = new EventCatalogue();
  const registry = { current: () => catalogue } as unknown as EventTypeRegistry;
  const permissions = { refusal: async () => null } as unknown as SenderPermissions;
  const counter = { inc: () => undefined, set: () => undefined };
  const metrics = { rateLimited: counter, rateLeased: counter, rateLate: counter, rateLines: counter } as unknown as DeliveryMetrics;
  const rateLine = new RateLine(repo, subscriptions, admission, sender, settlement, registry, permissions, metrics, { ackWaitMs: 60_000 } as DeliverySettings);
  rateLine.start();
  return {
    rateLine,
    leases,
    givenBack,
    sent,
    setOutcome: (o: RateLease['kind']) => (outcome = o),
    push: (n: number) => line.push(delivery(n)),
  };
}

describe('RateLine', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("sends each leased delivery at its time on PostgreSQL's clock, in line order, and stops pacing once the line is empty", async () => {
    const w = world(8);
    w.rateLine.wake(SUB);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(w.sent.map((s) => s.id)).toEqual(Array.from({ length: 8 }, (_, i) => `del-${i + 1}`));
    // One every 100 ms, from the lease's lead on: the DB clock's 5 s lead is not taken for local time.
    const gaps = w.sent.slice(1).map((s, i) => s.at - w.sent[i].at);
    expect(gaps.every((g) => g >= 99 && g <= 101)).toBe(true);
    expect(w.sent[0].at - 1_000_000).toBeLessThan(100);
    const leases = w.leases.length;
    // The line came back shorter than asked: no more leases until woken.
    await jest.advanceTimersByTimeAsync(5_000);
    expect(w.leases.length).toBe(leases);
    w.push(9);
    w.rateLine.wake(SUB);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(w.sent.map((s) => s.id)).toContain('del-9');
    await w.rateLine.stop();
  });

  it('puts a delivery back in line when its time passed by more than an interval, rather than send it late', async () => {
    const w = world(3);
    w.rateLine.wake(SUB);
    await jest.advanceTimersByTimeAsync(1);
    // The process stalls for half a second: the leased times went by.
    jest.setSystemTime(Date.now() + 500);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(w.givenBack.length).toBeGreaterThan(0);
    expect(w.sent.map((s) => s.id).filter((id) => w.givenBack.includes(id))).toEqual([]);
    await w.rateLine.stop();
  });

  it('asks again shortly when another pod is leasing, and stops for a subscription that is not active', async () => {
    const w = world(3);
    w.setOutcome('contended');
    w.rateLine.wake(SUB);
    await jest.advanceTimersByTimeAsync(100);
    w.setOutcome('leased');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(w.sent).toHaveLength(3);

    const inactive = world(3);
    inactive.setOutcome('inactive');
    inactive.rateLine.wake(SUB);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(inactive.sent).toEqual([]);
    await inactive.rateLine.stop();
    await w.rateLine.stop();
  });
});
