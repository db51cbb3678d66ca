/**
 * Subject and stream naming. Every name starts with a prefix so several hubs
 * or test runs can share one NATS server without seeing each other.
 *
 *   <prefix>.events.<tenant>.<event type>    e.g. hookhub.events.3b5c….ticket.created
 *
 * Trusted internal services may publish envelopes directly on this scheme,
 * with `Nats-Msg-Id: <tenant>:<event id>` for de-duplication.
 */
export class SubjectNames {
  constructor(readonly prefix: string) {}

  get eventsStream(): string {
    return `${this.prefix.toUpperCase()}_EVENTS`;
  }

  get allEvents(): string {
    return `${this.prefix}.events.>`;
  }

  /** Work queue of delivery retries, one subject per delivery (under its subscription's). */
  get retriesStream(): string {
    return `${this.prefix.toUpperCase()}_RETRIES`;
  }

  get allRetries(): string {
    return `${this.prefix}.retries.>`;
  }

  /**
   * A delivery's jobs: its own subject lets the overdue sweep ask the stream for
   * the delivery's last job (`last_by_subj`) instead of reading the whole queue.
   */
  retry(subscriptionId: string, deliveryId: string): string {
    return `${this.prefix}.retries.${subscriptionId}.${deliveryId}`;
  }

  event(tenantId: string, eventType: string): string {
    return `${this.prefix}.events.${tenantId}.${eventType}`;
  }

  /** The de-duplication key of an event: ids are unique per tenant. */
  static eventMsgId(tenantId: string, eventId: string): string {
    return `${tenantId}:${eventId}`;
  }
}

/** A scheduled attempt of a delivery, carried by the retries stream. */
export interface RetryJob {
  delivery_id: string;
  subscription_id: string;
  /** The attempt this job makes (2 for the first retry). */
  attempt: number;
  /** Epoch milliseconds before which the attempt must not run. */
  due_at: number;
}

/**
 * De-duplication key of a job: one per delivery attempt and due time, so a
 * job enqueued twice for the same schedule (a crash between enqueue and
 * commit) is stored once, while a manual retry or replay (due now) is not
 * swallowed by the job already waiting for the same attempt later.
 */
export function retryMsgId(job: Pick<RetryJob, 'delivery_id' | 'attempt' | 'due_at'>): string {
  return `${job.delivery_id}:${job.attempt}:${job.due_at}`;
}
