import { EventCatalogue } from '@hookhub/contracts';
import type { EventTypeRegistry } from '@hookhub/event-catalogue';
import type { InboundMessage } from '@hookhub/jetstream';
import { anEnvelope } from '@hookhub/testing';
import type { RetryScheduleRepository, RetryContext, SubscriptionEntity } from '@hookhub/persistence';
import { DeliveryAdmission } from './admission';
import type { AttemptSender, DeliveryJob } from './attempt-sender';
import type { AttemptSettlement } from './attempt-settlement';
import type { DeliverySettings } from './delivery.settings';
import type { DeliveryMetrics } from './delivery-metrics';
import { DispatchPipeline } from './dispatch-pipeline';
import type { FanOutService, PlannedDelivery } from './fan-out.service';
import type { RateLine } from './rate-line';
import type { ResourceOrder } from './resource-order';
import type { RetryPlanner } from './retry-planner';
import { SubscriptionLoad, SubscriptionSlot } from './subscription-load';

const event = anEnvelope({ id: 'evt-1', type: 'ticket.updated', model_id: 't-1' });
const TENANT = event.account_id;

function message(deliveryCount: number): InboundMessage & { acked: number; naked: number } {
  const m = {
    subject: `hookhub.events.${TENANT}.ticket.updated`,
    data: new TextEncoder().encode(JSON.stringify(event)),
    deliveryCount,
    streamSequence: 1,
    settled: false,
    acked: 0,
    naked: 0,
    header: () => undefined,
    ack: () => void m.acked++,
    nak: () => void m.naked++,
    term: () => undefined,
    working: () => undefined,
  };
  return m;
}

/** A pipeline whose fan-out finds the event's one delivery as `created`, and the database as `now`. */
function pipeline(created: boolean, now: Partial<RetryContext>, parked = false, held = false) {
  const subscription = { id: 'sub-1' } as SubscriptionEntity;
  const planned: PlannedDelivery = {
    delivery: {
      id: 'del-1',
      subscriptionId: 'sub-1',
      eventId: 'evt-1',
      status: 'pending',
      attemptCount: 0,
      parked,
      held,
      rateWaiting: false,
      resourceVersion: 3,
      created,
    },
    subscription,
  };
  const attempts: number[] = [];
  const rechecked: string[][] = [];
  const fanOut = {
    fanOut: async () => ({ deliveries: new Map([[`${TENANT}:evt-1`, [planned]]]), statuses: new Map([[`${TENANT}:evt-1`, 'UPDATE']]) }),
  } as unknown as FanOutService;
  const sender = {
    send: async (job: DeliveryJob, slot: SubscriptionSlot) => {
      attempts.push(job.attempt);
      expect(job.resourceVersion).toBe(3);
      slot.release();
      return { kind: 'sent', result: { ok: true }, headers: {} };
    },
  } as unknown as AttemptSender;
  const settlement = { settle: async () => ({ status: 'delivered', result: null, reason: null }) } as unknown as AttemptSettlement;
  const admission = new DeliveryAdmission(new SubscriptionLoad({ maxConcurrentRequests: 8, maxPerSubscription: 2 } as DeliverySettings));
  const deliveries = {
    loadRetryContexts: async (ids: string[]) => new Map(ids.map((id) => [id, { id, status: 'pending', attemptCount: 0, ...now } as RetryContext])),
  } as unknown as RetryScheduleRepository;
  const metrics = { deferred: { inc: () => void deferred++ } } as unknown as DeliveryMetrics;
  let deferred = 0;
  const order = { recheck: async (ids: string[]) => void rechecked.push(ids) } as unknown as ResourceOrder;
  // The built-in catalogue stands in for the registry (no types defined through the API here).
  const catalogue = new EventCatalogue();
  const registry = { current: () => catalogue, validate: async (c: unknown, v?: number) => catalogue.validate(c, v) } as unknown as EventTypeRegistry;
  return {
    p: new DispatchPipeline(fanOut, admission, sender, settlement, {} as RetryPlanner, order, deliveries, metrics, registry, {} as RateLine),
    attempts,
    deferred: () => deferred,
    rechecked,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('DispatchPipeline: deliveries a message did not create', () => {
  it('attempts a delivery still pending although the message is not marked redelivered (JetStream after a crash)', async () => {
    const { p, attempts } = pipeline(false, { status: 'pending', attemptCount: 0 });
    const msg = message(1);
    await p.handleBatch([msg]);
    await settle();
    expect(attempts).toEqual([1]);
    expect(msg.acked).toBe(1);
  });

  it('does not repeat an attempt that was recorded meanwhile (an event re-published after the duplicate window)', async () => {
    const { p, attempts } = pipeline(false, { status: 'delivered', attemptCount: 1 });
    const msg = message(1);
    await p.handleBatch([msg]);
    await settle();
    expect(attempts).toEqual([]);
    expect(msg.acked).toBe(1);
  });

  it('attempts the deliveries it created without asking the database', async () => {
    const { p, attempts } = pipeline(true, { status: 'delivered', attemptCount: 1 });
    const msg = message(1);
    await p.handleBatch([msg]);
    await settle();
    expect(attempts).toEqual([1]);
    expect(msg.acked).toBe(1);
  });

  it('leaves a delivery it created parked to the retry scheduler and acks the event', async () => {
    const { p, attempts, deferred } = pipeline(true, { status: 'pending', attemptCount: 0 }, true);
    const msg = message(1);
    await p.handleBatch([msg]);
    await settle();
    expect(attempts).toEqual([]);
    expect(deferred()).toBe(1);
    expect(msg.acked).toBe(1);
  });

  it('leaves a delivery it created held behind an earlier one of its resource, and checks it again after the commit', async () => {
    const { p, attempts, deferred, rechecked } = pipeline(true, { status: 'pending', attemptCount: 0 }, true, true);
    const msg = message(1);
    await p.handleBatch([msg]);
    await settle();
    expect(attempts).toEqual([]);
    expect(deferred()).toBe(0);
    expect(rechecked).toEqual([['del-1']]);
    expect(msg.acked).toBe(1);
  });

  it('sends an event that came twice in one batch once, and acks both copies (soak seed 20261130)', async () => {
    const { p, attempts } = pipeline(true, { status: 'pending', attemptCount: 0 });
    const [original, copy] = [message(1), message(2)];
    await p.handleBatch([original, copy]);
    await settle();
    expect(attempts).toEqual([1]);
    expect([original.acked, copy.acked, original.naked + copy.naked]).toEqual([1, 1, 0]);
  });
});
