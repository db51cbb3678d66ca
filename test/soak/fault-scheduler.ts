import type { FlakyReceiver } from './flaky-receiver';
import type { Fault, FaultKind, Ledger } from './ledger';
import type { SeededRandom } from './seeded-random';
import type { SupervisedApp } from './supervised-app';
import type { NatsServerProcess } from '../support/nats-server';
import type { PostgresServer } from '../support/postgres-server';
import { sleep } from '../support/faults';

/** What the scheduler can break. */
export interface FaultTargets {
  apps: SupervisedApp[];
  natsNodes: NatsServerProcess[];
  postgres: PostgresServer;
  receivers: FlakyReceiver[];
  /** The node leading the events stream now, if known. */
  streamLeader(): Promise<string | undefined>;
}

const WEIGHTS: ReadonlyArray<readonly [FaultKind, number]> = [
  ['app-kill', 25],
  ['app-term', 10],
  ['app-stop', 20],
  ['nats-kill', 15],
  ['postgres-restart', 10],
  ['receiver-gone', 20],
];

/**
 * Random faults for as long as it runs, from a seed: the first round does
 * every kind once (in a seeded order), then kinds are drawn by weight. At most
 * `maxConcurrent` faults at once, one per target, and at most one NATS node
 * down (the cluster keeps its quorum). Every fault goes to the ledger with its
 * window; a target is back (restarted and ready, resumed, listening) before
 * its fault ends.
 */
export class FaultScheduler {
  private readonly busy = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  /** Faults that could not be carried out as planned (e.g. an app that did not come back in time). */
  readonly failures: string[] = [];

  constructor(
    private readonly targets: FaultTargets,
    private readonly ledger: Ledger,
    private readonly random: SeededRandom,
    private readonly options: { gapMs: [number, number]; maxConcurrent: number },
  ) {}

  async run(untilMs: number): Promise<void> {
    const firstRound = this.random.shuffle(WEIGHTS.map(([k]) => k));
    while (!this.stopped && Date.now() < untilMs) {
      await sleep(this.random.int(...this.options.gapMs));
      if (this.stopped || Date.now() >= untilMs) break;
      if (this.running.size >= this.options.maxConcurrent) continue;
      const kind = firstRound.shift() ?? this.random.weighted(WEIGHTS);
      const work = this.inject(kind).catch((err: unknown) => {
        this.failures.push(`${kind}: ${(err as Error).message}`);
      });
      this.running.add(work);
      void work.finally(() => this.running.delete(work));
    }
  }

  /** Ends the run: no new faults; waits until every target is back. */
  async drain(): Promise<void> {
    this.stopped = true;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async inject(kind: FaultKind): Promise<void> {
    const r = this.random;
    switch (kind) {
      case 'app-kill':
      case 'app-term': {
        const app = this.free(this.targets.apps.map((a) => [a.name, a] as const));
        if (!app) return;
        const downMs = r.int(500, 5_000);
        const signal = kind === 'app-kill' ? 'SIGKILL' : 'SIGTERM';
        return this.hold(app.name, kind, `${signal}, restarted after ${downMs} ms`, async () => {
          await app.stop(signal);
          await sleep(downMs);
          await this.startAgain(app);
        });
      }
      case 'app-stop': {
        const app = this.free(this.targets.apps.map((a) => [a.name, a] as const));
        if (!app) return;
        const stoppedMs = r.int(1_000, 20_000);
        return this.hold(app.name, kind, `SIGSTOP for ${stoppedMs} ms`, async () => {
          app.pause();
          await sleep(stoppedMs);
          app.resume();
        });
      }
      case 'nats-kill': {
        if ([...this.busy].some((t) => t.startsWith('nats:'))) return;
        const leader = r.next() < 0.5 ? await this.targets.streamLeader() : undefined;
        const node = this.targets.natsNodes.find((n) => n.name === leader) ?? r.pick(this.targets.natsNodes);
        const downMs = r.int(2_000, 10_000);
        return this.hold(
          `nats:${node.name}`,
          kind,
          `SIGKILL${node.name === leader ? ' (events stream leader)' : ''}, restarted after ${downMs} ms`,
          async () => {
            await node.stop('SIGKILL');
            await sleep(downMs);
            await node.start(120_000);
          },
        );
      }
      case 'postgres-restart': {
        if (this.busy.has('postgres')) return;
        const mode = r.pick(['fast', 'immediate'] as const);
        const downMs = r.int(1_000, 5_000);
        return this.hold('postgres', kind, `stop -m ${mode}, started after ${downMs} ms`, async () => {
          await this.targets.postgres.stop(mode);
          await sleep(downMs);
          await this.targets.postgres.start();
        });
      }
      case 'receiver-gone': {
        const receiver = this.free(this.targets.receivers.map((x) => [`receiver:${x.name}`, x] as const));
        if (!receiver) return;
        const goneMs = r.int(2_000, 15_000);
        return this.hold(`receiver:${receiver.name}`, kind, `port closed for ${goneMs} ms`, async () => {
          await receiver.close();
          await sleep(goneMs);
          await receiver.listen();
        });
      }
    }
  }

  /** A random target not under a fault now. */
  private free<T>(candidates: ReadonlyArray<readonly [string, T]>): T | undefined {
    const free = candidates.filter(([name]) => !this.busy.has(name));
    return free.length ? this.random.pick(free)[1] : undefined;
  }

  private async hold(target: string, kind: FaultKind, detail: string, work: () => Promise<void>): Promise<void> {
    this.busy.add(target);
    const fault: Fault = this.ledger.faultStarted(kind, target.replace(/^(nats|receiver):/, '$1 '), detail);
    try {
      await work();
    } finally {
      fault.endedAt = Date.now();
      this.busy.delete(target);
    }
  }

  /** An app killed while PostgreSQL or a NATS node is down may fail to start: it is started again until it is ready. */
  private async startAgain(app: SupervisedApp): Promise<void> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        app.restarts++;
        return await app.start(60_000);
      } catch (err) {
        await app.stop('SIGKILL');
        if (Date.now() > deadline) throw new Error(`${app.name} did not come back: ${(err as Error).message}`, { cause: err });
        await sleep(1_000);
      }
    }
  }
}
