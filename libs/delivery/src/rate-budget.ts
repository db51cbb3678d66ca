/**
 * The arithmetic of a subscription's rate budget, shared by every dispatcher
 * pod: a GCRA (the "virtual scheduling" form of a token bucket). The budget is
 * one time, `nextSlotAt`: when the next send is due at the steady rate. A send
 * may go `tolerance` earlier than that, which is what lets a quiet
 * subscription send a few at once; each send moves `nextSlotAt` one interval
 * on. A pod leases the next few send times at once (a few hundred ms of them)
 * and sends each delivery at its time; the times of a lease that is never used
 * (its pod died) are simply lost, so nothing has to be given back.
 *
 * With `burst` ≥ `perSecond`, at most `burst` sends fall in any one second
 * and `perSecond` a second over time: the first `burstSize` at once after a
 * quiet spell, then one every `1000 / perSecond` ms. Half of the room `burst`
 * leaves over `perSecond` is kept for sends a busy pod makes a little late
 * (`lateAllowanceMs`), so that those too stay within `burst`.
 */

/** A subscription's limit: `perSecond` over time, at most `burst` in any one second (`burst` ≥ `perSecond`). */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** How far ahead a pod leases send times: what a pod that dies holding a lease can waste of the budget. */
export const LEASE_HORIZON_MS = 250;
/** Most deliveries one lease takes (a high limit's 250 ms can be thousands). */
export const MAX_LEASE = 500;

/** Milliseconds between two sends at the steady rate. */
export function intervalMs(limit: RateLimit): number {
  return 1000 / limit.perSecond;
}

/** Shortest lateness a pod may still send at: timers and event loops are rarely more precise. */
const MIN_LATE_ALLOWANCE_MS = 25;

/**
 * How late a pod may still make a send (a busy event loop, a collection pause): half the room `burst` leaves
 * over `perSecond`, as time at the rate, from 25 ms to the lease horizon. A send later than that goes back in
 * line: made late, it would bunch up with the next ones above the limit.
 */
export function lateAllowanceMs(limit: RateLimit): number {
  const room = limit.burst - limit.perSecond;
  return Math.min(LEASE_HORIZON_MS, Math.max(MIN_LATE_ALLOWANCE_MS, (room / 2 / limit.perSecond) * 1000));
}

/**
 * Sends that may go at once after a quiet spell: half the room `burst` leaves over `perSecond` (at least one).
 * The other half is for sends that go or arrive late: a pod's (up to `lateAllowanceMs`) and the network's.
 * A window of one second holds at most this many, minus one, plus a second of paced sends and the late ones:
 * `burst`, with up to half the room's worth of time in lateness. (With no room, `burst` = `perSecond`, a send
 * up to 25 ms late can make one more.)
 */
export function burstSize(limit: RateLimit): number {
  return Math.max(1, Math.floor((limit.burst - limit.perSecond) / 2));
}

/** The send times a lease may take, and what the budget becomes. */
export interface SlotPlan {
  /** Send times (ms, the budget's clock), earliest first, each at or after `nowMs`. */
  slots: number[];
  /** `nextSlotAtMs` once the first `taken` of `slots` are used (unchanged for none). */
  after(taken: number): number;
  /** When the send after the last of `slots` falls due (ms): a lease then would get it. */
  nextDueMs: number;
}

/**
 * The send times due from `nowMs` up to `horizonMs` later, at most `max` of them, for a budget whose next
 * steady-rate send is due at `nextSlotAtMs`. A budget left unused for a while (`nextSlotAtMs` long past)
 * holds no more than `burstSize` sends: the tolerance caps it.
 */
export function planSlots(limit: RateLimit, nextSlotAtMs: number, nowMs: number, options: { max: number; horizonMs: number }): SlotPlan {
  const interval = intervalMs(limit);
  const tolerance = (burstSize(limit) - 1) * interval;
  const base = Math.max(nextSlotAtMs, nowMs);
  const dueAt = (i: number): number => Math.max(nowMs, base + i * interval - tolerance);
  const slots: number[] = [];
  while (slots.length < options.max && dueAt(slots.length) <= nowMs + options.horizonMs) slots.push(dueAt(slots.length));
  return {
    slots,
    after: (taken) => (taken === 0 ? nextSlotAtMs : base + taken * interval),
    nextDueMs: dueAt(slots.length),
  };
}
