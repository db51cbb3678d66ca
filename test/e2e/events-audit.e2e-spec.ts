import type { AddressInfo } from 'node:net';
import { AckPolicy, connect, DeliverPolicy, NatsConnection, nanos } from 'nats';
import { SubjectNames } from '@hookhub/contracts';
import { EventsAudit } from '@hookhub/delivery';
import { EVENTS_CONSUMER } from '@hookhub/jetstream';
import { eventually } from '../support/eventually';
import { TestReceiver } from '../support/receiver';
import { publishEvent, startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';

/**
 * The events audit finds events the events consumer counts as acknowledged
 * although no pod recorded them (what JetStream did to one event in a soak),
 * and runs them through the pipeline: they are recorded and delivered once.
 */
describe('events audit: acknowledged events missing from the event log are recovered', () => {
  let ctx: TenantHub;
  let receiver: TestReceiver;
  let nc: NatsConnection;
  let tenantId: string;
  const subjects = (): SubjectNames => new SubjectNames(ctx.env.prefix);

  beforeAll(async () => {
    // No dispatcher yet: the test plays the pod that acknowledges events without working on them.
    ctx = await startTenantHub({}, { dispatchers: 0 });
    tenantId = ctx.tenant.tenantId;
    receiver = await new TestReceiver().start();
    nc = await connect({ servers: ctx.env.natsUrl });
    await subscribe(ctx, { url: `${receiver.url}/audit`, event_types: ['ticket.created'] });
  });
  afterAll(async () => {
    await nc?.close();
    await receiver?.stop();
    await stopTenantHub(ctx);
  });

  async function recoveredMetric(): Promise<number> {
    const port = (ctx.hub.dispatchers[0].getHttpServer().address() as AddressInfo).port;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/hookhub_events_recovered_total (\d+)/.exec(metrics)?.[1] ?? 0);
  }

  it('delivers, once each, the events acked without being recorded, and nothing twice on the next pass', async () => {
    for (const id of ['evt-lost-1', 'evt-lost-2', 'evt-kept-3']) await publishEvent(ctx, id);
    // The dispatchers' durable consumer, as they create it; two events acknowledged by nobody's work.
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(subjects().eventsStream, {
      durable_name: EVENTS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(60_000),
      max_deliver: -1,
    });
    const consumer = await nc.jetstream().consumers.get(subjects().eventsStream, EVENTS_CONSUMER);
    const fetched = await consumer.fetch({ max_messages: 3, expires: 5_000 });
    const seen: string[] = [];
    for await (const m of fetched) {
      const id = (m.json() as { id: string }).id;
      seen.push(id);
      if (id === 'evt-kept-3') m.nak();
      else m.ack();
    }
    expect(seen).toEqual(['evt-lost-1', 'evt-lost-2', 'evt-kept-3']);

    const dispatcher = await ctx.hub.startDispatcher();
    await receiver.waitFor(1, 15_000);
    expect(receiver.requests.map((r) => (r.json() as { id: string }).id)).toEqual(['evt-kept-3']);
    const logged = await ctx.db.query(`SELECT id FROM events WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
    expect(logged.rows).toEqual([{ id: 'evt-kept-3' }]);

    // A pass (the dispatcher's own one runs every 30 s; either may be the one that finds them).
    await dispatcher.get(EventsAudit).run();
    await eventually(async () => {
      const ids = receiver.requests.map((r) => (r.json() as { id: string }).id).sort();
      expect(ids).toEqual(['evt-kept-3', 'evt-lost-1', 'evt-lost-2']);
    }, 15_000);
    const after = await ctx.db.query(`SELECT id FROM events WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
    expect(after.rows.map((r: { id: string }) => r.id)).toEqual(['evt-kept-3', 'evt-lost-1', 'evt-lost-2']);
    await eventually(async () => expect(await recoveredMetric()).toBe(2));

    // The next pass checks only what the consumer acknowledged since (the event it delivered itself) and recovers nothing.
    await expect(dispatcher.get(EventsAudit).run()).resolves.toMatchObject({ recovered: 0 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.requests).toHaveLength(3);
  }, 60_000);

  it('publishes an invalid event (terminated, so not in the log) again once, and its copy never', async () => {
    const jsm = await nc.jetstreamManager();
    const audit = ctx.hub.dispatchers[0].get(EventsAudit);
    const before = receiver.requests.length;
    const envelope = { id: 'evt-invalid', account_id: tenantId, type: 'ticket.created', model_id: 'x' };
    await nc.jetstream().publish(subjects().event(tenantId, 'ticket.created'), new TextEncoder().encode(JSON.stringify(envelope)), { msgID: 'invalid-1' });
    const original = (await jsm.streams.info(subjects().eventsStream)).state.last_seq;
    const floorReaches = async (seq: number): Promise<void> =>
      eventually(async () => expect((await jsm.consumers.info(subjects().eventsStream, EVENTS_CONSUMER)).ack_floor.stream_seq).toBeGreaterThanOrEqual(seq));

    await floorReaches(original);
    await expect(audit.run()).resolves.toMatchObject({ recovered: 1 });
    const copy = await jsm.streams.getMessage(subjects().eventsStream, { seq: original + 1 });
    expect(copy.header.get('Hookhub-Recovered-From')).toBe(String(original));
    await floorReaches(original + 1);
    await expect(audit.run()).resolves.toMatchObject({ recovered: 0 });
    expect((await jsm.streams.info(subjects().eventsStream)).state.last_seq).toBe(original + 1);
    expect(receiver.requests).toHaveLength(before);
  }, 60_000);
});
