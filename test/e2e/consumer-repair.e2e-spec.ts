import { connect, DeliverPolicy, NatsConnection } from 'nats';
import { SubjectNames } from '@hookhub/contracts';
import { ConsumerWatchdog, EVENTS_CONSUMER, RETRIES_CONSUMER } from '@hookhub/jetstream';
import { eventually } from '../support/eventually';
import { TestReceiver } from '../support/receiver';
import { publishEvent, startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';

/**
 * The watchdog's last repair of a starving consumer deletes it and creates it
 * again. The dispatchers' running pulls must find the new consumer, the
 * events consumer must start past what was acknowledged, and the retries
 * consumer must hand out the jobs that were waiting.
 */
describe('consumer repair: a durable consumer deleted and created again', () => {
  let ctx: TenantHub;
  let receiver: TestReceiver;
  let nc: NatsConnection;
  let subjects: SubjectNames;

  beforeAll(async () => {
    ctx = await startTenantHub();
    receiver = await new TestReceiver().start();
    nc = await connect({ servers: ctx.env.natsUrl });
    subjects = new SubjectNames(ctx.env.prefix);
  });
  afterAll(async () => {
    await nc?.close();
    await receiver?.stop();
    await stopTenantHub(ctx);
  });

  const seen = (): string[] => receiver.requests.map((r) => `${(r.json() as { id: string }).id}#${String(r.headers['x-webhook-attempt'])}`);

  it('keeps delivering after both consumers were re-created, without handing out acknowledged events again', async () => {
    // Each event's first attempt fails: its second waits as a job on the retries stream.
    receiver.respond = (req) => (req.headers['x-webhook-attempt'] === '1' ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' });
    await subscribe(ctx, { url: `${receiver.url}/repair`, event_types: ['ticket.created'], retry_policy_ms: [8_000] });
    await publishEvent(ctx, 'evt-before');
    await receiver.waitFor(1, 10_000);

    // The job for evt-before's second attempt waits (nak'd) while both consumers are re-created.
    const watchdog = ctx.hub.dispatchers[0].get(ConsumerWatchdog);
    const jsm = await nc.jetstreamManager();
    const before = await jsm.consumers.info(subjects.eventsStream, EVENTS_CONSUMER);
    await watchdog.recreate(subjects.eventsStream, EVENTS_CONSUMER);
    await watchdog.recreate(subjects.retriesStream, RETRIES_CONSUMER);
    const events = await jsm.consumers.info(subjects.eventsStream, EVENTS_CONSUMER);
    expect(events.created).not.toEqual(before.created);
    expect(events.config).toMatchObject({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: before.ack_floor.stream_seq + 1 });
    expect((await jsm.consumers.info(subjects.retriesStream, RETRIES_CONSUMER)).config.deliver_policy).toBe(DeliverPolicy.All);

    await publishEvent(ctx, 'evt-after');
    await eventually(() => expect(seen().sort()).toEqual(['evt-after#1', 'evt-after#2', 'evt-before#1', 'evt-before#2']), 90_000, 250);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.requests).toHaveLength(4);
  }, 120_000);
});
