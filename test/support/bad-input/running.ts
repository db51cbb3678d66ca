/** Runs a group of generated requests and checks every reply and the world after each. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { expectRawRefused, expectRefused } from './checks';
import type { RawAttack } from './raw-http';
import { type BadInputClient, type BadRequest, describeRequest, type HttpReply, preview } from './requests';
import type { SideEffectProbe, WorldState } from './side-effects';
import { logRun } from '../test-logs';

/** fast-check parameters of one group: a fixed seed per group (BAD_INPUT_SEED changes the base), runs scaled by BAD_INPUT_RUNS. */
export function runParameters(group: string, numRuns: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const base = Number(process.env.BAD_INPUT_SEED ?? 20261123);
  const salt = createHash('sha256').update(group).digest().readUInt32BE(0);
  return { seed: (base ^ salt) | 0, numRuns: Math.max(1, Math.round(numRuns * Number(process.env.BAD_INPUT_RUNS ?? 1))), endOnFailure: false };
}

export interface BadInputContext {
  client: BadInputClient;
  probe: SideEffectProbe;
  /** The world every request is compared with; taken again after a group that changed it, so later groups stay meaningful. */
  baseline: WorldState;
}

/**
 * A side effect outlives the request that caused it, so every later run (and
 * every shrink) would fail too: the first culprit is remembered and reported.
 */
export class SideEffectWatch {
  private culprit?: Error;

  constructor(private readonly ctx: BadInputContext) {}

  async check(context: string): Promise<void> {
    if (this.culprit) throw this.culprit;
    try {
      await this.ctx.probe.expectUnchanged(this.ctx.baseline, context);
    } catch (err) {
      this.culprit = new Error(`${(err as Error).message}\n  (the first request that changed something; the counterexample above may be a later one)`);
      throw this.culprit;
    }
  }

  /** After a failed group: accept the world as it is now. */
  async rebaseline(): Promise<void> {
    if (this.culprit) this.ctx.baseline = await this.ctx.probe.capture();
  }
}

/** Requests sent by a group and the statuses they got (`none` for a raw request the server closed without answering). */
export interface GroupReport {
  sent: number;
  statuses: Record<string, number>;
}

/** Every group's report of a suite, with the total and the time taken, into the test file's run log. */
export function logGroupReports(suite: string, reports: Record<string, GroupReport>, startedAt: number): void {
  const total = Object.values(reports).reduce((x, r) => x + r.sent, 0);
  const groups = Object.entries(reports).map(([g, r]) => `  ${g}: ${formatReport(r)}`);
  logRun(`bad input, ${suite}: ${total} requests in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n${groups.join('\n')}`);
}

export function formatReport(report: GroupReport): string {
  return `${report.sent} (${Object.entries(report.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}×${n}`)
    .join(' ')})`;
}

/**
 * Runs one group: every generated request is sent, its reply checked with
 * `check` (default: must be refused), and the world must stay unchanged.
 */
export async function assertEveryRequest(
  group: string,
  numRuns: number,
  arb: fc.Arbitrary<BadRequest>,
  ctx: BadInputContext,
  check: (req: BadRequest, reply: HttpReply) => void = (req, reply) => expectRefused(req, reply),
): Promise<GroupReport> {
  const report: GroupReport = { sent: 0, statuses: {} };
  const watch = new SideEffectWatch(ctx);
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (req) => {
        report.sent++;
        let reply: HttpReply;
        try {
          reply = await ctx.client.send(req);
        } catch (err) {
          throw new Error(`no reply (${(err as Error).message})\n  request: ${describeRequest(req)}`, { cause: err });
        }
        report.statuses[reply.status] = (report.statuses[reply.status] ?? 0) + 1;
        if (process.env.BAD_INPUT_DEBUG) process.stderr.write(`${reply.status} ${preview(reply.body, 200)}\n    ${describeRequest(req).slice(0, 400)}\n`);
        try {
          check(req, reply);
        } finally {
          await watch.check(describeRequest(req));
        }
      }),
      runParameters(group, numRuns),
    );
  } finally {
    await watch.rebaseline();
  }
  return report;
}

/** The same for raw HTTP/1.1 attacks: each is written on its own connection and every reply must refuse it. */
export async function assertEveryRawRequest(group: string, numRuns: number, arb: fc.Arbitrary<RawAttack>, ctx: BadInputContext): Promise<GroupReport> {
  const report: GroupReport = { sent: 0, statuses: {} };
  const watch = new SideEffectWatch(ctx);
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (attack) => {
        report.sent++;
        const replies = await ctx.client.sendRaw(attack.bytes, { halfClose: attack.truncated, idleMs: 500 });
        for (const key of replies.length ? replies.map((r) => String(r.status)) : ['none']) report.statuses[key] = (report.statuses[key] ?? 0) + 1;
        try {
          expectRawRefused(attack, replies);
        } finally {
          await watch.check(attack.why);
        }
      }),
      runParameters(group, numRuns),
    );
  } finally {
    await watch.rebaseline();
  }
  return report;
}
