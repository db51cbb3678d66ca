import { Injectable, Logger } from '@nestjs/common';
import { MetricsRegistry } from '@hookhub/platform';
import { DeliverPolicy, RetentionPolicy } from 'nats';
import { Counter } from 'prom-client';
import { JetstreamConnection } from './jetstream-connection';

/** What one look at a durable consumer and its stream shows. */
export interface ConsumerObservation {
  /** The server leading the consumer (its view of the stream is the one that counts). */
  leader: string | undefined;
  deliveredSeq: number;
  numPending: number;
  numWaiting: number;
  numAckPending: number;
  maxAckPending: number;
  /** The stream leader's last sequence and message count. */
  streamLastSeq: number;
  streamMessages: number;
}

/** The watchdog's memory of one consumer between looks. */
export interface WatchState {
  /** Consecutive looks that found it starving with the same leader and delivered sequence. */
  strikes: number;
  leader: string | undefined;
  /** The delivered sequence of the last look; null before the first look and after a repair (no baseline). */
  deliveredSeq: number | null;
  /** Repairs that did not help since it last handed anything out (this pod's, or a leader moved by another); each wait doubles. */
  repairs: number;
}

export const FRESH_WATCH: WatchState = { strikes: 0, leader: undefined, deliveredSeq: null, repairs: 0 };

/** What to do about a consumer after a look. */
export type WatchAction = 'none' | 'step-down' | 'recreate';

/** Leader step-downs tried before the consumer is deleted and created again. */
export const STEP_DOWNS_BEFORE_RECREATE = 1;

/** Looks in a row that must find a consumer starving before its leader is stepped down. */
export const STRIKES_TO_ACT = 3;

/**
 * Whether a consumer is starving: the stream holds messages past the last one it handed out, pulls
 * are waiting (or its leader counts nothing pending, which contradicts the stream), and its own ack
 * window is not what holds it back. A consumer led by a server whose copy of the stream stopped
 * catching up looks like this (soak run 3 in docs/durability.md): it never sees the new messages.
 */
export function starving(o: ConsumerObservation): boolean {
  return behind(o) && (o.numPending === 0 || o.numWaiting > 0);
}

/** The stream holds messages past the last one handed out, and the ack window is not what holds them back. */
function behind(o: ConsumerObservation): boolean {
  return o.streamMessages > 0 && o.streamLastSeq > o.deliveredSeq && o.numAckPending < o.maxAckPending;
}

/**
 * The next state after a look, and what to do now. After STRIKES_TO_ACT looks starving with the same
 * leader and delivered sequence, its leader is stepped down, so that a server with a current copy of the
 * stream may lead it. A step-down does not cure a replica whose stream diverged (soak run 5 in
 * docs/durability.md): after STEP_DOWNS_BEFORE_RECREATE of them the consumer is deleted and created
 * again, as a new raft group. Every pod watches, so a leader that moved while the consumer kept starving
 * (another pod's step-down) counts as a repair that did not help: the pods escalate together instead of
 * each stepping the leader down on its own (soak run 8 wedged for four minutes on five step-downs by
 * three pods; in run 10 three pods stepped it down before one re-created it, since the look after
 * each move found no pulls waiting yet). Each repair past the step-downs doubles the looks before the
 * next one (at most 16 times as many): a stream whose tail was deleted also looks starving.
 */
export function assess(previous: WatchState, o: ConsumerObservation): { state: WatchState; action: WatchAction } {
  const baseline = previous.deliveredSeq !== null;
  const progressed = baseline && o.deliveredSeq !== previous.deliveredSeq;
  const starved = starving(o);
  // A look during an election sees no leader: the last one known still counts, so the look after it is not a move.
  const leader = o.leader ?? previous.leader;
  const same = baseline && !progressed && leader === previous.leader;
  // Right after a step-down the pods' pulls may not be waiting yet, so the look that sees the new
  // leader need not find it starving: being behind, after a starving look, is enough.
  const movedInVain = baseline && !progressed && !same && behind(o) && (starved || previous.strikes > 0);
  const repairs = progressed ? 0 : previous.repairs + (movedInVain ? 1 : 0);
  const strikes = !starved ? 0 : same ? previous.strikes + 1 : 1;
  const next = { strikes, leader, deliveredSeq: o.deliveredSeq, repairs };
  if (strikes < STRIKES_TO_ACT * 2 ** Math.min(Math.max(repairs - STEP_DOWNS_BEFORE_RECREATE, 0), 4)) return { state: next, action: 'none' };
  // The repair moves the leader or the position: the next look starts a new baseline rather than counting it as progress.
  return {
    state: { ...next, strikes: 0, deliveredSeq: null, repairs: repairs + 1 },
    action: repairs < STEP_DOWNS_BEFORE_RECREATE ? 'step-down' : 'recreate',
  };
}

/** A running watch; `stop` ends it. */
export interface ConsumerWatch {
  stop(): void;
}

/**
 * Watches durable consumers for starving (see `starving`) and repairs a
 * starving one (see `assess`). Every pod watches; a repair changes the
 * leader or the position, which resets the other pods' count, so they do not
 * repeat it at once.
 */
@Injectable()
export class ConsumerWatchdog {
  private readonly logger = new Logger(ConsumerWatchdog.name);
  private readonly repairs: Counter<'consumer' | 'action'>;

  constructor(
    private readonly connection: JetstreamConnection,
    registry: MetricsRegistry,
  ) {
    this.repairs = new Counter({
      name: 'hookhub_consumer_repairs_total',
      help: 'Repairs of a durable consumer that starved (its stream held messages it did not hand out): leader step-downs, and deletions and re-creations',
      labelNames: ['consumer', 'action'],
      registers: [registry],
    });
  }

  watch(stream: string, durable: string, everyMs: number): ConsumerWatch {
    let state = FRESH_WATCH;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.look(stream, durable)
        .then(async (o) => {
          const next = assess(state, o);
          state = next.state;
          if (next.action === 'none') return;
          this.logger.warn(
            {
              stream,
              durable,
              action: next.action,
              leader: o.leader,
              delivered: o.deliveredSeq,
              streamLastSeq: o.streamLastSeq,
              pending: o.numPending,
              waiting: o.numWaiting,
            },
            'the consumer hands out nothing while its stream holds messages past the last it delivered; repairing it',
          );
          this.repairs.inc({ consumer: durable, action: next.action });
          if (next.action === 'step-down') await this.stepDown(stream, durable);
          else await this.recreate(stream, durable);
        })
        .catch((err: unknown) => this.logger.debug({ err: (err as Error).message, stream, durable }, 'watching the consumer failed; next look'))
        .finally(() => (busy = false));
    }, everyMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async look(stream: string, durable: string): Promise<ConsumerObservation> {
    const jsm = this.connection.jsm;
    const [c, s] = await Promise.all([jsm.consumers.info(stream, durable), jsm.streams.info(stream)]);
    return {
      leader: c.cluster?.leader,
      deliveredSeq: c.delivered.stream_seq,
      numPending: c.num_pending,
      numWaiting: c.num_waiting,
      numAckPending: c.num_ack_pending,
      maxAckPending: c.config.max_ack_pending ?? Number.MAX_SAFE_INTEGER,
      streamLastSeq: s.state.last_seq,
      streamMessages: s.state.messages,
    };
  }

  private async stepDown(stream: string, durable: string): Promise<void> {
    await this.connection.nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${durable}`, undefined, { timeout: 5_000 });
  }

  /**
   * Deletes the durable consumer and creates it again with its settings. On a work queue it starts at
   * the beginning, which is every job not yet acknowledged (and orphans below the old ack floor, now
   * handed out); elsewhere just past the old ack floor. Messages in work are handed out again: the
   * pipelines do not repeat what was recorded. The pods' pulls find the new consumer by its name.
   */
  async recreate(stream: string, durable: string): Promise<void> {
    const jsm = this.connection.jsm;
    const [c, s] = await Promise.all([jsm.consumers.info(stream, durable), jsm.streams.info(stream)]);
    const { ack_policy, ack_wait, max_deliver, max_ack_pending, filter_subject } = c.config;
    const start =
      s.config.retention === RetentionPolicy.Workqueue
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.min(c.ack_floor.stream_seq, s.state.last_seq) + 1 };
    await jsm.consumers.delete(stream, durable);
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy,
      ack_wait,
      max_deliver,
      max_ack_pending,
      ...(filter_subject ? { filter_subject } : {}),
      ...start,
    });
  }
}
