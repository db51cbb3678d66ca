import { Injectable, Logger } from '@nestjs/common';
import { EventEnvelope, EventValidator, canonicalEnvelope } from '@hookhub/contracts';
import { eventKey } from '@hookhub/event-store';
import type { InboundMessage } from '@hookhub/jetstream';
import { DeliveryExecutor } from './delivery-executor';
import { RetryPlanner } from './retry-planner';
import { FanOutService } from './fan-out.service';
import { EventPayloads } from './payload';

const decoder = new TextDecoder();

/**
 * What the dispatcher does with a batch of events from JetStream: validate,
 * record and fan out in one transaction, attempt every pending delivery, and
 * ack each event once its deliveries' attempts are recorded. A failure before
 * that naks the event, and the redelivery resumes where it stopped.
 */
@Injectable()
export class DispatchPipeline {
  private readonly logger = new Logger(DispatchPipeline.name);
  private readonly validator = new EventValidator();
  /** Last attempt queued per (subscription, resource): later events of a resource wait for earlier ones. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly fanOut: FanOutService,
    private readonly executor: DeliveryExecutor,
    private readonly planner: RetryPlanner,
  ) {}

  async handleBatch(batch: InboundMessage[]): Promise<void> {
    const accepted: Array<{ msg: InboundMessage; event: EventEnvelope }> = [];
    for (const msg of batch) {
      const event = this.parse(msg);
      if (event) accepted.push({ msg, event });
    }
    if (accepted.length === 0) return;

    const plan = await this.fanOut.fanOut(accepted.map((a) => a.event));

    for (const { msg, event } of accepted) {
      const payloads = new EventPayloads(event);
      // A redelivered message resumes the deliveries it left unfinished; a new message carrying an event
      // that is already recorded (re-published after the duplicate window) sends only what it created.
      const resumable = msg.deliveryCount > 1;
      const pending = (plan.get(eventKey(event)) ?? []).filter(
        (p) => p.delivery.status === 'pending' && (p.delivery.created || resumable),
      );
      if (pending.length === 0) {
        msg.ack();
        continue;
      }
      Promise.all(
        pending.map((p) => {
          const attempt = p.delivery.attemptCount + 1;
          // A saturated subscription (slow or dead endpoint) must not hold this event, and with it
          // every other subscription's delivery: its attempt moves to the retries stream unchanged.
          if (!this.executor.hasCapacityFor(p.subscription.id)) {
            return this.planner.defer(p.delivery.id, p.subscription.id, attempt);
          }
          return this.inResourceOrder(`${p.subscription.id}:${event.model_type}:${event.model_id}`, () =>
            this.executor.attempt({ deliveryId: p.delivery.id, attempt, subscription: p.subscription, payloads }),
          );
        }),
      ).then(
        () => msg.ack(),
        (err: unknown) => {
          this.logger.error({ err, eventId: event.id }, 'delivery failed before it was recorded; redelivering the event');
          msg.nak(5_000);
        },
      );
    }
  }

  /**
   * Sends a subscription the events of one resource in the order they arrived
   * (created before updated), while events of other resources go in parallel.
   * Retries and several pods can still reorder: receivers get attempt numbers
   * and delivery ids to sort that out.
   */
  private inResourceOrder<T>(key: string, attempt: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const run = previous ? previous.then(attempt, attempt) : attempt();
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  /** An event that can never be valid is terminated: redelivering it would only fail again. */
  private parse(msg: InboundMessage): EventEnvelope | null {
    let candidate: unknown;
    try {
      candidate = JSON.parse(decoder.decode(msg.data));
    } catch {
      this.logger.error({ subject: msg.subject, seq: msg.streamSequence }, 'event is not JSON; terminated');
      msg.term();
      return null;
    }
    const result = this.validator.validate(candidate);
    if (!result.ok) {
      this.logger.error({ subject: msg.subject, seq: msg.streamSequence, errors: result.errors }, 'event is invalid; terminated');
      msg.term();
      return null;
    }
    return canonicalEnvelope(result.event);
  }
}
