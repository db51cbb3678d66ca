/**
 * The soak's own record of what happened, written by the soak and never by
 * the hub: every publish the hub acknowledged, every request each receiver
 * got and how it answered, and every fault with its window.
 */

export type PublishChannel = 'api' | 'api-batch' | 'jetstream' | 'provider';

export interface AcknowledgedEvent {
  /** The event id; for a provider callback, the provider's message id (the hub derives the event id). */
  id: string;
  channel: PublishChannel;
  type: string;
  modelId: string;
  ackedAt: number;
  /** Which try was acknowledged (from 0), and whether the hub said it had the event already. */
  tries?: number;
  duplicate?: boolean;
}

export type ReceiverMood = 'ok' | 'fail' | 'slow' | 'hang';

export interface Receipt {
  receiver: string;
  /** The subscription's path on its receiver. */
  path: string;
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  resourceVersion: number | null;
  /** `id` of a full-format body (thin notifications carry none). */
  eventId: string | null;
  body: string;
  arrivedAt: number;
  mood: ReceiverMood;
  /** The status answered, or null while unanswered (hanging, or the receiver went away first). */
  status: number | null;
  answeredAt: number | null;
}

export type FaultKind = 'app-kill' | 'app-term' | 'app-stop' | 'nats-kill' | 'postgres-restart' | 'receiver-gone';

export interface Fault {
  kind: FaultKind;
  target: string;
  detail: string;
  startedAt: number;
  /** When the target was back (restarted and ready, resumed, listening again). */
  endedAt: number | null;
}

export class Ledger {
  readonly acknowledged = new Map<string, AcknowledgedEvent>();
  readonly receipts: Receipt[] = [];
  readonly faults: Fault[] = [];
  /** Publishes given up after their retries (never acknowledged, so not owed). */
  unacknowledged = 0;
  publishRetries = 0;

  acknowledge(event: Omit<AcknowledgedEvent, 'ackedAt'>): void {
    if (!this.acknowledged.has(event.id)) this.acknowledged.set(event.id, { ...event, ackedAt: Date.now() });
  }

  faultStarted(kind: FaultKind, target: string, detail: string): Fault {
    const fault: Fault = { kind, target, detail, startedAt: Date.now(), endedAt: null };
    this.faults.push(fault);
    return fault;
  }
}
