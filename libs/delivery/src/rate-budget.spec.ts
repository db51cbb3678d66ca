import fc from 'fast-check';
import { burstSize, intervalMs, lateAllowanceMs, LEASE_HORIZON_MS, MAX_LEASE, planSlots, RateLimit } from './rate-budget';
import { mostInWindow } from '@hookhub/testing';

const options = { max: MAX_LEASE, horizonMs: LEASE_HORIZON_MS };

/**
 * Pods leasing from one budget at the given times (ms), each taking `take(i)` of the times it is offered,
 * as the lease transaction does under the budget's lock; `used(i)` false: the pod died and never sent them.
 */
function simulate(limit: RateLimit, asks: Array<{ at: number; take: number; used: boolean }>): number[] {
  let nextSlotAt = 0;
  const sent: number[] = [];
  for (const ask of [...asks].sort((a, b) => a.at - b.at)) {
    const plan = planSlots(limit, nextSlotAt, ask.at, options);
    const taken = Math.min(ask.take, plan.slots.length);
    nextSlotAt = plan.after(taken);
    if (ask.used) sent.push(...plan.slots.slice(0, taken));
  }
  return sent;
}

describe('rate budget (GCRA)', () => {
  it('after a quiet spell lets half the room over per_second go at once, then paces one every 1000 / per_second ms', () => {
    const limit = { perSecond: 50, burst: 100 };
    const plan = planSlots(limit, 0, 10_000, options);
    // Room 50: 25 at once; the other 25 for late sends (a pod may be up to 250 ms late, 13 sends at 50/s).
    expect(lateAllowanceMs(limit)).toBe(250);
    expect(burstSize(limit)).toBe(25);
    expect(plan.slots.slice(0, 25)).toEqual(Array(25).fill(10_000));
    expect(plan.slots.slice(25, 28)).toEqual([10_020, 10_040, 10_060]);
    // Up to the horizon: 25 at once and one every 20 ms for 250 ms.
    expect(plan.slots).toHaveLength(25 + 12);
    expect(plan.nextDueMs).toBe(10_260);
  });

  it('allows late sends half the room burst leaves, from 25 ms to the lease horizon', () => {
    expect(lateAllowanceMs({ perSecond: 40, burst: 40 })).toBe(25);
    expect(lateAllowanceMs({ perSecond: 40, burst: 50 })).toBe(125);
    expect(burstSize({ perSecond: 40, burst: 50 })).toBe(5);
    expect(burstSize({ perSecond: 40, burst: 41 })).toBe(1);
    expect(lateAllowanceMs({ perSecond: 1, burst: 1_000 })).toBe(LEASE_HORIZON_MS);
  });

  it('with burst = per_second paces evenly from the first send', () => {
    const limit = { perSecond: 10, burst: 10 };
    expect(burstSize(limit)).toBe(1);
    const plan = planSlots(limit, 0, 5_000, options);
    expect(plan.slots).toEqual([5_000, 5_100, 5_200]);
    expect(plan.after(3)).toBe(5_300);
  });

  it('continues where the previous lease ended, and gives nothing before its time', () => {
    const limit = { perSecond: 10, burst: 10 };
    const first = planSlots(limit, 0, 5_000, options);
    const next = planSlots(limit, first.after(3), 5_010, options);
    // The next send is due at 5,300; with the horizon at 5,260 the lease is empty and says when to ask again.
    expect(next.slots).toEqual([]);
    expect(next.nextDueMs).toBe(5_300);
    expect(next.after(0)).toBe(5_300);
    expect(planSlots(limit, first.after(3), 5_100, options).slots).toEqual([5_300]);
  });

  it('takes only what was used: a lease taking fewer than offered leaves the rest for the next', () => {
    const limit = { perSecond: 100, burst: 100 };
    const plan = planSlots(limit, 0, 0, options);
    expect(plan.slots.length).toBeGreaterThan(2);
    expect(plan.after(2)).toBe(2 * intervalMs(limit));
    expect(planSlots(limit, plan.after(2), 0, options).slots[0]).toBe(20);
  });

  it('a budget unused for long holds only burstSize sends', () => {
    const limit = { perSecond: 5, burst: 20 };
    const plan = planSlots(limit, 1_000, 3_600_000, { max: 100, horizonMs: 0 });
    expect(burstSize(limit)).toBe(7);
    expect(plan.slots).toHaveLength(7);
  });

  it('caps a lease at `max` sends', () => {
    const plan = planSlots({ perSecond: 10_000, burst: 10_000 }, 0, 0, { max: 7, horizonMs: 1_000 });
    expect(plan.slots).toHaveLength(7);
    expect(plan.nextDueMs).toBeCloseTo(0.7);
  });

  it('whatever pods ask when, never more than `burst` sends in any one second, and `per_second` over time', () => {
    const limits = fc
      .integer({ min: 1, max: 400 })
      .chain((perSecond) => fc.record({ perSecond: fc.constant(perSecond), burst: fc.integer({ min: perSecond, max: perSecond * 3 }) }));
    const asks = fc.array(fc.record({ at: fc.integer({ min: 0, max: 10_000 }), take: fc.integer({ min: 0, max: MAX_LEASE }), used: fc.boolean() }), {
      maxLength: 200,
    });
    fc.assert(
      fc.property(limits, asks, (limit, pods) => {
        const sent = simulate(limit, pods);
        expect(mostInWindow(sent)).toBeLessThanOrEqual(limit.burst);
        // Over the 10 s of asks (and a lease's horizon past them), the steady rate plus the one burst.
        expect(sent.length).toBeLessThanOrEqual(Math.ceil((10_000 + LEASE_HORIZON_MS) / intervalMs(limit)) + burstSize(limit));
      }),
      { numRuns: 300 },
    );
  });

  it('sends late by up to the allowance still keep to `burst` in any one second, when burst leaves room for one', () => {
    const limits = fc
      .integer({ min: 1, max: 400 })
      .chain((perSecond) => fc.record({ perSecond: fc.constant(perSecond), burst: fc.integer({ min: perSecond, max: perSecond * 3 }) }))
      .filter((l) => Math.floor((l.burst - l.perSecond) / 2) >= Math.ceil((lateAllowanceMs(l) / 1000) * l.perSecond));
    const asks = fc.array(fc.record({ at: fc.integer({ min: 0, max: 10_000 }), take: fc.integer({ min: 0, max: MAX_LEASE }), used: fc.constant(true) }), {
      maxLength: 100,
    });
    fc.assert(
      fc.property(limits, asks, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1 }), (limit, pods, delays) => {
        const allowance = lateAllowanceMs(limit);
        const sent = simulate(limit, pods).map((t, i) => t + delays[i % delays.length] * allowance);
        expect(mostInWindow(sent)).toBeLessThanOrEqual(limit.burst);
      }),
      { numRuns: 300 },
    );
  });

  it('three pods asking every 100–150 ms with a line that never empties send at the limit, evenly', () => {
    const limit = { perSecond: 50, burst: 50 };
    const asks: Array<{ at: number; take: number; used: boolean }> = [];
    for (let pod = 0; pod < 3; pod++)
      for (let t = pod * 37; t < 30_000; t += 100 + ((t * 7 + pod * 13) % 50)) asks.push({ at: t, take: MAX_LEASE, used: true });
    const sent = simulate(limit, asks);
    const inWindow = sent.filter((t) => t < 30_000).length;
    expect(inWindow / 30).toBeGreaterThanOrEqual(49.5);
    expect(inWindow / 30).toBeLessThanOrEqual(50.5);
    expect(mostInWindow(sent)).toBeLessThanOrEqual(50);
    // Exactly one send every 20 ms: the pods' leases interleave without gaps or overlaps.
    const gaps = new Set(sent.slice(1).map((t, i) => Math.round(t - sent[i])));
    expect([...gaps]).toEqual([20]);
  });

  it('a pod that dies holding a lease costs at most the lease horizon of the budget', () => {
    const limit = { perSecond: 40, burst: 40 };
    const asks = [
      { at: 0, take: MAX_LEASE, used: true },
      { at: 200, take: MAX_LEASE, used: false }, // leases up to 450 ms, then dies
      { at: 300, take: MAX_LEASE, used: true },
      { at: 500, take: MAX_LEASE, used: true },
      { at: 700, take: MAX_LEASE, used: true },
    ];
    const sent = simulate(limit, asks);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(LEASE_HORIZON_MS + intervalMs(limit));
  });
});
