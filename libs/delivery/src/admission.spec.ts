import { DeliveryAdmission } from './admission';
import type { DeliverySettings } from './delivery.settings';
import { MAX_SLOT_WAIT_MS, SubscriptionLoad } from './subscription-load';

function admissionWith(maxPerSubscription: number, maxConcurrentRequests = 64) {
  const load = new SubscriptionLoad({ maxPerSubscription, maxConcurrentRequests } as DeliverySettings);
  return { load, admission: new DeliveryAdmission(load) };
}

/** Holds every slot of a subscription with a request that never answers, as a hanging endpoint does. */
async function hang(admission: DeliveryAdmission, subscriptionId: string, slots: number): Promise<void> {
  for (let i = 0; i < slots; i++) {
    const admitted = admission.admit({ subscriptionId });
    if (admitted.kind !== 'send') throw new Error('expected a slot');
    await admitted.slot.ready;
    void admitted.slot.onTheWire(() => new Promise<{ durationMs: number }>(() => undefined));
  }
}

describe('DeliveryAdmission', () => {
  afterEach(() => jest.useRealTimers());

  it('leaves a delivery the fan-out parked (held behind its resource, or parked as busy) to the scheduler', () => {
    const { admission, load } = admissionWith(2);
    expect(admission.admit({ subscriptionId: 's', parked: true })).toEqual({ kind: 'parked' });
    expect(load.queued).toBe(0);
  });

  it('admits with a place in the subscription line, counted until it goes on the wire or is released', async () => {
    const { admission, load } = admissionWith(1);
    const first = admission.admit({ subscriptionId: 's' });
    const second = admission.admit({ subscriptionId: 's' });
    if (first.kind !== 'send' || second.kind !== 'send') throw new Error('expected slots');
    expect(load.queued).toBe(2);
    await first.slot.ready;
    let secondReady = false;
    void second.slot.ready.then(() => (secondReady = true));
    await first.slot.onTheWire(async () => ({ durationMs: 5 }));
    expect(load.queued).toBe(1);
    expect(secondReady).toBe(false);
    first.slot.release();
    await second.slot.ready;
    expect(secondReady).toBe(true);
    second.slot.release();
    expect(load.queued).toBe(0);
  });

  it('a slot released before it was granted is handed on once granted, so the line keeps moving', async () => {
    const { admission } = admissionWith(1);
    const first = admission.admit({ subscriptionId: 's' });
    const second = admission.admit({ subscriptionId: 's' });
    const third = admission.admit({ subscriptionId: 's' });
    if (first.kind !== 'send' || second.kind !== 'send' || third.kind !== 'send') throw new Error('expected slots');
    second.slot.release(); // gives up while still waiting behind the first
    first.slot.release();
    await expect(third.slot.ready).resolves.toBeUndefined();
  });

  it('makes a delivery for a hanging endpoint wait, with a back-off of at least a second, and lists it for the fan-out to park', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { admission, load } = admissionWith(2);
    await hang(admission, 'slow', 2);
    // Silent for long enough that a new attempt would wait past the limit (the silence is shared by its two slots).
    jest.setSystemTime(1_000_000 + 3 * MAX_SLOT_WAIT_MS);
    const decision = admission.admit({ subscriptionId: 'slow' });
    expect(decision.kind).toBe('wait');
    if (decision.kind === 'wait') expect(decision.delayMs).toBeGreaterThanOrEqual(1_000);
    expect([...admission.parkDelays().keys()]).toEqual(['slow']);
    // Another subscription is unaffected.
    expect(admission.admit({ subscriptionId: 'fast' }).kind).toBe('send');
    expect(load.isBusy('fast')).toBe(false);
  });

  it('sends an attempt of a rate-limited subscription only with a lease of its budget, which queues here even for a busy endpoint', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { admission } = admissionWith(2);
    expect(admission.waitsForBudget({ ratePerSecond: 50 })).toBe(true);
    expect(admission.waitsForBudget({ ratePerSecond: null })).toBe(false);
    expect(admission.admit({ subscriptionId: 'limited', rateLimited: true })).toEqual({ kind: 'rate-line' });
    // Waiting in the line is parked: nothing for the pipelines to do.
    expect(admission.admit({ subscriptionId: 'limited', rateLimited: true, parked: true })).toEqual({ kind: 'parked' });
    await hang(admission, 'limited', 2);
    jest.setSystemTime(1_000_000 + 3 * MAX_SLOT_WAIT_MS);
    expect(admission.busyDelayMs('limited')).toBeGreaterThanOrEqual(1_000);
    expect(admission.busyDelayMs('other')).toBeNull();
    expect(admission.admit({ subscriptionId: 'limited', rateLimited: true, leased: true }).kind).toBe('send');
  });

  it('reports the pod backlogged once twice its connections are in line', () => {
    const { admission } = admissionWith(100, 2);
    expect(admission.backlogged(3)).toBe(false);
    expect(admission.backlogged(4)).toBe(true);
    admission.admit({ subscriptionId: 's' });
    expect(admission.backlogged(3)).toBe(true);
  });
});
