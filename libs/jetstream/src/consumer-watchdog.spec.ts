import { assess, ConsumerObservation, FRESH_WATCH, starving, STRIKES_TO_ACT, WatchAction, WatchState } from './consumer-watchdog';

const healthy: ConsumerObservation = {
  leader: 'n1',
  deliveredSeq: 100,
  numPending: 0,
  numWaiting: 2,
  numAckPending: 0,
  maxAckPending: 1_000,
  streamLastSeq: 100,
  streamMessages: 40,
};
/** Soak run 3's retries consumer: led by n2, whose copy of the stream stopped at 100 while the stream went on to 138. */
const stale: ConsumerObservation = { ...healthy, leader: 'n2', streamLastSeq: 138 };

/** Whether each look acts (a step-down or a re-creation). */
function looks(observations: ConsumerObservation[], from: WatchState = FRESH_WATCH): boolean[] {
  return actions(observations, from).map((a) => a !== 'none');
}

/** The looks (numbered from 1) that acted, and what they did. */
function actedAt(observations: ConsumerObservation[]): Array<readonly [number, WatchAction]> {
  return actions(observations)
    .map((a, i) => [i + 1, a] as const)
    .filter(([, a]) => a !== 'none');
}

function actions(observations: ConsumerObservation[], from: WatchState = FRESH_WATCH): WatchAction[] {
  let state = from;
  return observations.map((o) => {
    const next = assess(state, o);
    state = next.state;
    return next.action;
  });
}

describe('consumer watchdog', () => {
  describe('starving', () => {
    it('is a stream holding messages past the last one handed out, with pulls waiting or nothing counted pending', () => {
      expect(starving(stale)).toBe(true);
      expect(starving({ ...stale, numPending: 38, numWaiting: 6 })).toBe(true);
      expect(starving({ ...stale, numPending: 0, numWaiting: 0 })).toBe(true);
    });

    it('is not a consumer that has handed out everything, nor one whose pods stopped pulling, nor one held by its ack window', () => {
      expect(starving(healthy)).toBe(false);
      expect(starving({ ...stale, numPending: 38, numWaiting: 0 })).toBe(false);
      expect(starving({ ...stale, numAckPending: 1_000 })).toBe(false);
      expect(starving({ ...stale, streamMessages: 0 })).toBe(false);
    });
  });

  describe('assess', () => {
    it(`steps the leader down after ${STRIKES_TO_ACT} starving looks at the same leader and position, not before`, () => {
      expect(looks([stale, stale, stale])).toEqual([false, false, true]);
    });

    it('starts counting again when the consumer moves on or its leader changes', () => {
      expect(looks([stale, stale, { ...stale, deliveredSeq: 101 }, stale, stale])).toEqual([false, false, false, false, false]);
      expect(looks([stale, stale, { ...stale, leader: 'n3' }, { ...stale, leader: 'n3' }])).toEqual([false, false, false, false]);
      expect(looks([stale, stale, healthy, stale, stale])).toEqual([false, false, false, false, false]);
    });

    it('steps the leader down once, then deletes and creates the consumer again, each time after twice as many looks', () => {
      const stuck = Array.from({ length: 3 + 3 + 6 + 12 }, () => stale);
      const acted = actedAt(stuck);
      expect(acted).toEqual([
        [3, 'step-down'],
        [6, 'recreate'],
        [12, 'recreate'],
        [24, 'recreate'],
      ]);
    });

    it('counts a leader that moved while the consumer kept starving as a repair that did not help (another pod stepped it down; soak run 8)', () => {
      const movedByAnother = { ...stale, leader: 'n3' };
      const acted = actedAt([stale, stale, movedByAnother, movedByAnother, movedByAnother]);
      expect(acted).toEqual([[5, 'recreate']]);
    });

    it('counts a move even when the look after it finds no pulls waiting yet (they come back after the step-down; soak run 10)', () => {
      const justMoved = { ...stale, leader: 'n3', numPending: 151, numWaiting: 0 };
      const movedByAnother = { ...stale, leader: 'n3' };
      expect(starving(justMoved)).toBe(false);
      const acted = actedAt([stale, stale, justMoved, movedByAnother, movedByAnother, movedByAnother]);
      expect(acted).toEqual([[6, 'recreate']]);
      // Not a move whose look finds the ack window full (that holds it back); a look with no leader keeps the last one known.
      const full = { ...justMoved, numAckPending: 1_000 };
      expect(actions([stale, stale, full, movedByAnother, movedByAnother, movedByAnother])).not.toContain('recreate');
      const electing = { ...stale, leader: undefined };
      expect(actions([stale, stale, electing, { ...stale, leader: 'n3' }])).toEqual(['none', 'none', 'step-down', 'none']);
    });

    it('forgets its repairs once the consumer delivers again', () => {
      let state = FRESH_WATCH;
      for (const o of [stale, stale, stale, stale, stale, stale, stale, stale, stale]) state = assess(state, o).state;
      expect(state.repairs).toBe(2); // a step-down and a re-creation
      // The look that sees it move counts as the first of the next STRIKES_TO_ACT.
      state = assess(state, { ...stale, deliveredSeq: 120 }).state;
      expect(state.repairs).toBe(0);
      const moved = { ...stale, deliveredSeq: 120 };
      expect(looks([moved, moved], state)).toEqual([false, true]);
    });
  });
});
