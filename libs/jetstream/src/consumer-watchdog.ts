import { Injectable, Logger } from '@nestjs/common';
import { MetricsRegistry } from '@hookhub/platform';
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
  deliveredSeq: number | null;
  /** Step-downs made since it last handed anything out; each next one waits twice as long. */
  stepDowns: number;
}

export const FRESH_WATCH: WatchState = { strikes: 0, leader: undefined, deliveredSeq: null, stepDowns: 0 };

/** Looks in a row that must find a consumer starving before its leader is stepped down. */
export const STRIKES_TO_ACT = 3;

/**
 * Whether a consumer is starving: the stream holds messages past the last one it handed out, pulls
 * are waiting (or its leader counts nothing pending, which contradicts the stream), and its own ack
 * window is not what holds it back. A consumer led by a server whose copy of the stream stopped
 * catching up looks like this (soak run 3 in docs/durability.md): it never sees the new messages.
 */
export function starving(o: ConsumerObservation): boolean {
  const behind = o.streamMessages > 0 && o.streamLastSeq > o.deliveredSeq;
  return behind && (o.numPending === 0 || o.numWaiting > 0) && o.numAckPending < o.maxAckPending;
}

/**
 * The next state after a look, and whether to step the consumer's leader down now: after
 * STRIKES_TO_ACT looks starving with the same leader and delivered sequence, and, when earlier
 * step-downs did not help, after 2^(step-downs so far) times as many (a stream whose tail was
 * deleted also looks starving: it is stepped down less and less often, at most every 16 times).
 */
export function assess(previous: WatchState, o: ConsumerObservation): { state: WatchState; stepDown: boolean } {
  const progressed = previous.deliveredSeq !== null && o.deliveredSeq !== previous.deliveredSeq;
  const stepDowns = progressed ? 0 : previous.stepDowns;
  const same = previous.leader === o.leader && previous.deliveredSeq === o.deliveredSeq;
  const strikes = starving(o) ? (same ? previous.strikes + 1 : 1) : 0;
  const next = { strikes, leader: o.leader, deliveredSeq: o.deliveredSeq, stepDowns };
  if (strikes < STRIKES_TO_ACT * 2 ** Math.min(stepDowns, 4)) return { state: next, stepDown: false };
  return { state: { ...next, strikes: 0, stepDowns: stepDowns + 1 }, stepDown: true };
}

/** A running watch; `stop` ends it. */
export interface ConsumerWatch {
  stop(): void;
}

/**
 * Watches durable consumers for starving (see `starving`) and steps a
 * starving consumer's leader down, so a server with a current copy of the
 * stream leads it. Every pod watches; a step-down changes the leader, which
 * resets the other pods' count, so they do not step it down again at once.
 */
@Injectable()
export class ConsumerWatchdog {
  private readonly logger = new Logger(ConsumerWatchdog.name);
  private readonly stepDowns: Counter<'consumer'>;

  constructor(
    private readonly connection: JetstreamConnection,
    registry: MetricsRegistry,
  ) {
    this.stepDowns = new Counter({
      name: 'hookhub_consumer_stepdowns_total',
      help: 'Leader step-downs of a durable consumer the watchdog made because it starved: its stream held messages it did not hand out',
      labelNames: ['consumer'],
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
          if (next.stepDown) await this.stepDown(stream, durable, o);
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

  private async stepDown(stream: string, durable: string, o: ConsumerObservation): Promise<void> {
    this.logger.warn(
      { stream, durable, leader: o.leader, delivered: o.deliveredSeq, streamLastSeq: o.streamLastSeq, pending: o.numPending, waiting: o.numWaiting },
      'the consumer hands out nothing while its stream holds messages past the last it delivered; stepping its leader down',
    );
    this.stepDowns.inc({ consumer: durable });
    await this.connection.nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${durable}`, undefined, { timeout: 5_000 });
  }
}
