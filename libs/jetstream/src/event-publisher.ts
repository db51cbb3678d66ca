import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, headers as natsHeaders, MsgHdrs, NatsError } from 'nats';
import { EventEnvelope, SCHEMA_VERSION_HEADER, schemaVersionOf, serializeEnvelope, SubjectNames } from '@hookhub/contracts';
import { contextOf, endSpan, headerSinkSetter, injectTrace, SpanKind, startSpan, TraceContext, tracingOn } from '@hookhub/tracing';
import { JETSTREAM_SETTINGS, JetstreamSettings } from './jetstream.config';
import { JetstreamConnection } from './jetstream-connection';

export interface PublishReceipt {
  stream: string;
  seq: number;
  /** True when JetStream had this event id already and stored nothing new (an earlier try of this same publish included). */
  duplicate: boolean;
}

export interface PublishOptions {
  /** How long the publish keeps trying, in all (default PUBLISH_DEADLINE_MS). */
  deadlineMs?: number;
  /** The trace the event belongs to (the API request's, a provider callback's); unset: the publish starts one. */
  trace?: TraceContext;
  /**
   * `own` (default): the publish gets a producer span, child of `trace`, and the message carries it.
   * `caller`: the message carries `trace` as it is, because the caller's span is the event's producer
   * already: the API's request span, which ends once JetStream has acked (a span less per event).
   */
  producerSpan?: 'own' | 'caller';
}

/** How long one publish keeps trying, in all (what a caller such as `POST /v1/events` waits at most). */
export const PUBLISH_DEADLINE_MS = 10_000;
/** How long one try waits for JetStream's ack before the next try (same message id, so it is de-duplicated). */
export const PUBLISH_TRY_TIMEOUT_MS = 2_000;
/** Pause between tries while connected (JetStream still starting, no responders yet). */
const RETRY_PAUSE_MS = 150;

/**
 * A publish that JetStream did not confirm before the deadline. The event may
 * have been stored all the same (a try reached the server, its ack did not
 * come back): the caller must report it as unknown, never as not stored, and
 * a retry with the same event id is safe (it is de-duplicated).
 */
export class PublishNotConfirmedError extends Error {
  constructor(
    readonly tries: number,
    readonly lastError: string,
  ) {
    super(`JetStream did not confirm the event after ${tries} ${tries === 1 ? 'try' : 'tries'} (${lastError})`);
    this.name = 'PublishNotConfirmedError';
  }
}

/** Failures a later try with the same message id can get past: NATS away or restarting, an ack lost. */
function worthRetrying(err: unknown): boolean {
  if (!(err instanceof NatsError)) return false;
  return [ErrorCode.Timeout, ErrorCode.NoResponders, ErrorCode.Disconnect, ErrorCode.ConnectionRefused, ErrorCode.ConnectionTimeout].includes(
    err.code as ErrorCode,
  );
}

const encoder = new TextEncoder();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes domain events. The returned promise resolves only once JetStream
 * has stored the event (its publish ack), which is what a 202 promises.
 * During a NATS outage it keeps trying (same `Nats-Msg-Id`) until
 * `PUBLISH_DEADLINE_MS`, sending the next try as soon as the connection is
 * back, so a short restart costs callers a delay rather than an error.
 *
 * Any number of publishes wait for their acks at once (each is its own
 * request on the connection's shared reply subscription). The first try of
 * every publish started in one event-loop turn is sent in the next check
 * phase (setImmediate), together: the NATS client flushes what was written
 * in one microtask drain as one socket write, so concurrent API requests
 * share a write instead of paying one each (a socket write to nats-server was
 * the largest single cost of `POST /v1/events` under load, with its wake-up
 * of the server).
 */
@Injectable()
export class EventPublisher {
  /** Resolves in the next check phase; shared by every publish started in this turn. */
  private nextTurn?: Promise<void>;

  constructor(
    private readonly connection: JetstreamConnection,
    @Inject(JETSTREAM_SETTINGS) private readonly settings: JetstreamSettings,
  ) {}

  async publish(event: EventEnvelope, options: PublishOptions = {}): Promise<PublishReceipt> {
    const subject = this.settings.subjects.event(event.account_id, event.type);
    const h = natsHeaders();
    h.set('Content-Type', 'application/json');
    h.set(SCHEMA_VERSION_HEADER, String(schemaVersionOf(event)));
    const data = encoder.encode(serializeEnvelope(event));
    const msgID = SubjectNames.eventMsgId(event.account_id, event.id);
    // The producer span's context travels in the message's headers: the dispatcher's spans continue it.
    const span =
      tracingOn() && options.producerSpan !== 'caller'
        ? startSpan('publish events', SpanKind.PRODUCER, options.trace, {
            'messaging.system': 'nats',
            'messaging.operation.name': 'publish',
            'messaging.operation.type': 'send',
            'messaging.destination.name': subject,
            'hookhub.event.id': event.id,
            'hookhub.event.type': event.type,
          })
        : undefined;
    injectTrace(span ? contextOf(span) : options.trace, h, headerSinkSetter);
    try {
      const receipt = await this.publishTries(subject, data, msgID, h, Date.now() + (options.deadlineMs ?? PUBLISH_DEADLINE_MS));
      span?.setAttribute('hookhub.duplicate', receipt.duplicate);
      endSpan(span);
      return receipt;
    } catch (err) {
      endSpan(span, err instanceof PublishNotConfirmedError ? 'not confirmed by JetStream' : 'publish failed', err instanceof Error ? err.name : undefined);
      throw err;
    }
  }

  private async publishTries(subject: string, data: Uint8Array, msgID: string, h: MsgHdrs, deadline: number): Promise<PublishReceipt> {
    await this.turn();
    let tries = 0;
    for (;;) {
      // A try sent while disconnected would wait in the client's buffer; wait for the connection instead.
      await this.connection.whenConnected(deadline - Date.now());
      const left = deadline - Date.now();
      tries++;
      try {
        const ack = await this.connection.js.publish(subject, data, { msgID, headers: h, timeout: Math.max(1, Math.min(PUBLISH_TRY_TIMEOUT_MS, left)) });
        return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
      } catch (err) {
        const description = err instanceof Error ? err.message : String(err);
        if (!worthRetrying(err)) {
          if (tries === 1) throw err;
          throw new PublishNotConfirmedError(tries, description);
        }
        if (Date.now() + RETRY_PAUSE_MS >= deadline) throw new PublishNotConfirmedError(tries, description);
        await sleep(RETRY_PAUSE_MS);
      }
    }
  }

  private turn(): Promise<void> {
    this.nextTurn ??= new Promise((resolve) =>
      setImmediate(() => {
        this.nextTurn = undefined;
        resolve();
      }),
    );
    return this.nextTurn;
  }
}
