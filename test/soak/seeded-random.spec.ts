import { SeededRandom } from './seeded-random';

describe('SeededRandom', () => {
  it('repeats the same draws for the same seed and differs for another', () => {
    const draws = (seed: number): number[] => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => r.int(0, 1_000_000));
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
  });

  it('stays in range and picks by weight', () => {
    const r = new SeededRandom(42);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 10_000; i++) {
      const n = r.int(3, 5);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(5);
      counts[
        r.weighted([
          ['a', 9],
          ['b', 1],
        ] as const)
      ]++;
    }
    expect(counts.a / 10_000).toBeGreaterThan(0.87);
    expect(counts.a / 10_000).toBeLessThan(0.93);
  });

  it('forks independent streams that are reproducible', () => {
    const a = new SeededRandom(1).fork(2);
    const b = new SeededRandom(1).fork(2);
    const c = new SeededRandom(1).fork(3);
    const take = (r: SeededRandom): number[] => Array.from({ length: 5 }, () => r.next());
    const first = take(a);
    expect(take(b)).toEqual(first);
    expect(take(c)).not.toEqual(first);
  });
});
