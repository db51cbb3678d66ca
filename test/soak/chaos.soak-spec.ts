import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { logRun } from '../support/test-logs';
import { Ledger } from './ledger';
import { SeededRandom } from './seeded-random';
import { runSoak, SoakReport, soakOptions } from './soak-run';
import { SoakWorld } from './soak-world';

const options = soakOptions();

/**
 * The chaos soak (`npm run soak -- --minutes=30 --rate=20 --seed=7`; `npm test`
 * runs the 2-minute one with the default seed): the whole hub as real
 * processes under load through every way in, random faults all along, and an
 * independent ledger checked against the hub's delivery log at the end.
 */
describe(`chaos soak: ${options.minutes} min, ${options.rate} events/s, seed ${options.seed}`, () => {
  let world: SoakWorld | undefined;
  let report: SoakReport | undefined;

  beforeAll(
    async () => {
      const ledger = new Ledger();
      const random = new SeededRandom(options.seed);
      world = await SoakWorld.start(ledger, random.fork(1));
      report = await runSoak(world, ledger, random, options);
      const text = JSON.stringify(report, null, 2);
      logRun(text);
      if (process.env.SOAK_REPORT) {
        mkdirSync(dirname(process.env.SOAK_REPORT), { recursive: true });
        writeFileSync(process.env.SOAK_REPORT, text);
      }
    },
    (options.minutes * 60_000 + options.quietMs) * 1.5 + 300_000,
  );

  afterAll(async () => {
    await world?.teardown();
  }, 120_000);

  it('ran faults of every kind under load, each carried out', () => {
    expect(Object.keys(report!.faults.byKind).sort()).toEqual(['app-kill', 'app-stop', 'app-term', 'nats-kill', 'postgres-restart', 'receiver-gone']);
    expect(report!.faults.failures).toEqual([]);
    expect(Object.values(report!.verdict.acknowledged).every((n) => n > 0)).toBe(true);
  });

  it('lost no acknowledged event: each reached every matching subscription or was dead-lettered with its reason', () => {
    expect(report!.verdict.lost).toEqual([]);
    expect(report!.verdict.reached + report!.verdict.deadLettered).toBe(report!.verdict.expectedDeliveries);
  });

  it('explains every duplicate by a fault before it (or an answer after the timeout)', () => {
    expect(report!.verdict.duplicates.unexplained).toEqual([]);
  });

  it('kept per-resource order in the strict subscription', () => {
    expect(report!.verdict.order.resourcesChecked).toBeGreaterThan(0);
    expect(report!.verdict.order.violations).toEqual([]);
  });

  it('keeps a delivery log that agrees with what the receivers got', () => {
    expect(report!.verdict.disagreements).toEqual([]);
  });

  it('leaves every process ready, with memory that does not keep growing', () => {
    expect(report!.health.unready).toEqual([]);
    // Every app stays well inside a pod's usual memory limit however long the run; a lifetime long enough to
    // show a trend (5 minutes; the faults restart apps every few) must not keep growing.
    for (const [app, m] of Object.entries(report!.memory)) {
      expect({ app, peakMb: m.peakMb < 512 }).toEqual({ app, peakMb: true });
      if (m.minutes >= 5) expect({ app, slope: m.slopeMbPerMin < 5 }).toEqual({ app, slope: true });
    }
  });
});
