import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders } from 'nats';
import { RetryJob, retryMsgId } from '@hookhub/contracts';
import { contextOf, endSpan, headerSinkSetter, injectTrace, SpanKind, startSpan, TraceContext, tracingOn } from '@hookhub/tracing';
import { JETSTREAM_SETTINGS, JetstreamSettings } from './jetstream.config';
import { RETRIES_CONSUMER } from './consumer-names';
import { JetstreamConnection } from './jetstream-connection';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A job as the retries stream stores it. */
export interface StoredRetryJob {
  seq: number;
  job: RetryJob;
}

/** Puts delivery attempts on the retries stream; resolves once JetStream stored the job. */
@Injectable()
export class RetryQueue {
  constructor(
    private readonly connection: JetstreamConnection,
    @Inject(JETSTREAM_SETTINGS) private readonly settings: JetstreamSettings,
  ) {}

  /**
   * `trace`: the event's trace the attempt belongs to. Its producer span's context rides in the job's
   * headers (the job's JSON stays as it is), so the retry's spans join the event's trace.
   */
  async enqueue(job: RetryJob, trace?: TraceContext): Promise<void> {
    const subject = this.settings.subjects.retry(job.subscription_id, job.delivery_id);
    const msgID = retryMsgId(job);
    const span = tracingOn()
      ? startSpan('publish retries', SpanKind.PRODUCER, trace, {
          'messaging.system': 'nats',
          'messaging.operation.name': 'publish',
          'messaging.operation.type': 'send',
          'messaging.destination.name': subject,
          'messaging.message.id': msgID,
          'hookhub.delivery.id': job.delivery_id,
          'hookhub.subscription.id': job.subscription_id,
          'hookhub.attempt': job.attempt,
          'hookhub.retry.due_in_ms': Math.max(0, job.due_at - Date.now()),
        })
      : undefined;
    const headers = span ? natsHeaders() : undefined;
    if (headers) injectTrace(contextOf(span), headers, headerSinkSetter);
    try {
      await this.connection.js.publish(subject, encoder.encode(JSON.stringify(job)), { msgID, timeout: 10_000, headers });
      endSpan(span);
    } catch (err) {
      endSpan(span, 'publish failed', err instanceof Error ? err.name : undefined);
      throw err;
    }
  }

  /** The delivery's newest job on the stream, or null when none is stored (acked, or lost). */
  async lastJob(subscriptionId: string, deliveryId: string): Promise<StoredRetryJob | null> {
    try {
      const stored = await this.connection.jsm.streams.getMessage(this.settings.subjects.retriesStream, {
        last_by_subj: this.settings.subjects.retry(subscriptionId, deliveryId),
      });
      return { seq: stored.seq, job: JSON.parse(decoder.decode(stored.data)) as RetryJob };
    } catch (err) {
      if (err instanceof Error && /no message found/i.test(err.message)) return null;
      throw err;
    }
  }

  /**
   * The retries consumer's ack floor: every job at or below it counts as done. A job still stored
   * there (a work queue removes acked jobs) is an orphan the consumer will never hand out.
   */
  async ackFloor(): Promise<number> {
    return (await this.connection.jsm.consumers.info(this.settings.subjects.retriesStream, RETRIES_CONSUMER)).ack_floor.stream_seq;
  }

  /** Removes an orphaned job from the stream. */
  async discard(seq: number): Promise<void> {
    await this.connection.jsm.streams.deleteMessage(this.settings.subjects.retriesStream, seq, false);
  }
}
