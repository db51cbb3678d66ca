import { Ledger, Receipt } from './ledger';
import { judge, LoggedDelivery, slopePerMinute, SoakSubscription } from './verdict';

const SUBS: SoakSubscription[] = [
  { id: 's-strict', name: 'strict', eventTypes: ['ticket.*'], ordering: 'strict' },
  { id: 's-msg', name: 'messages', eventTypes: ['message.*'], ordering: 'default' },
];

function receipt(deliveryId: string, attempt: number, arrivedAt: number, status: number | null, extra: Partial<Receipt> = {}): Receipt {
  return {
    receiver: 'r1',
    path: '/strict',
    deliveryId,
    subscriptionId: 's-strict',
    attempt,
    resourceVersion: null,
    eventId: null,
    body: '',
    arrivedAt,
    mood: status === 200 ? 'ok' : 'fail',
    status,
    answeredAt: status === null ? null : arrivedAt + 5,
    ...extra,
  };
}

/** One ticket event e1 (delivery d1) and e2 (d2), acknowledged; what the receiver and the log hold varies per test. */
function world(receipts: Receipt[], deliveries: Partial<LoggedDelivery>[], faults: Ledger['faults'] = []): ReturnType<typeof judge> {
  const ledger = new Ledger();
  ledger.acknowledge({ id: 'e1', channel: 'api', type: 'ticket.updated', modelId: 't-1' });
  ledger.acknowledge({ id: 'e2', channel: 'jetstream', type: 'ticket.updated', modelId: 't-1' });
  ledger.receipts.push(...receipts);
  ledger.faults.push(...faults);
  return judge({
    ledger,
    subscriptions: SUBS,
    deliveries: deliveries.map((d, i) => ({
      id: `d${i + 1}`,
      subscriptionId: 's-strict',
      eventId: `e${i + 1}`,
      status: 'delivered',
      attemptCount: 1,
      reason: null,
      ...d,
    })),
    attempts: [],
    eventIdOf: new Map([
      ['e1', 'e1'],
      ['e2', 'e2'],
    ]),
    ackWaitMs: 15_000,
    webhookTimeoutMs: 4_000,
  });
}

describe('soak verdict', () => {
  it('passes a run where every owed delivery was accepted once, in order', () => {
    const v = world([receipt('d1', 1, 1_000, 200, { resourceVersion: 1 }), receipt('d2', 1, 2_000, 200, { resourceVersion: 2 })], [{}, {}]);
    expect(v).toMatchObject({ expectedDeliveries: 2, reached: 2, lost: [], disagreements: [], order: { resourcesChecked: 1, violations: [] } });
    expect(v.duplicates.count).toBe(0);
  });

  it('finds an event with no delivery, and one left pending, as lost', () => {
    const v = world([receipt('d1', 1, 1_000, 500)], [{ status: 'retrying', attemptCount: 1 }]);
    expect(v.lostEvents.sort()).toEqual(['e1', 'e2']);
    expect(v.lost.join('\n')).toMatch(/e2 .*no delivery in the log/);
    expect(v.lost.join('\n')).toMatch(/e1 .*retrying after 1 attempts; the receiver saw 1:fail:500/);
  });

  it('counts a dead letter with its reason as settled, not lost', () => {
    const v = world([receipt('d1', 1, 1_000, 500), receipt('d2', 1, 1_500, 200)], [{ status: 'failed', reason: 'HTTP 500 after 1 attempts' }, {}]);
    expect(v).toMatchObject({ deadLettered: 1, reached: 1, lost: [] });
  });

  it('explains a duplicate only by a fault before it', () => {
    const dup = [receipt('d1', 1, 1_000, 200), receipt('d1', 1, 20_000, 200), receipt('d2', 1, 1_500, 200)];
    expect(world(dup, [{}, {}]).duplicates.unexplained).toHaveLength(1);
    const kill = { kind: 'app-kill' as const, target: 'dispatcher-2', detail: 'SIGKILL', startedAt: 1_200, endedAt: 3_000 };
    const explained = world(dup, [{}, {}], [kill]).duplicates;
    expect(explained).toMatchObject({ count: 1, unexplained: [], byCause: { 'app-kill': 1 } });
    // A fault over before the acceptance by more than ack_wait did not cause it.
    const old = [receipt('d1', 1, 60_000, 200), receipt('d1', 1, 70_000, 200), receipt('d2', 1, 1_500, 200)];
    expect(world(old, [{}, {}], [kill]).duplicates.unexplained).toHaveLength(1);
    // A publisher-side app going down cannot make the dispatcher send again.
    expect(world(dup, [{}, {}], [{ ...kill, target: 'subscriptions-1' }]).duplicates.unexplained).toHaveLength(1);
  });

  it('finds strict order broken when a later version was accepted first', () => {
    const v = world([receipt('d2', 1, 1_000, 200, { resourceVersion: 2 }), receipt('d1', 1, 2_000, 200, { resourceVersion: 1 })], [{}, {}]);
    expect(v.order.violations).toHaveLength(1);
    expect(v.order.cases).toEqual([{ subscriptionId: 's-strict', modelId: expect.any(String), versions: [1, 2] }]);
  });

  it('finds an event with two deliveries to one subscription (soak seed 20261130)', () => {
    const v = world([receipt('d1', 1, 1_000, 200), receipt('d2', 1, 1_500, 200), receipt('d3', 1, 2_000, 200)], [{}, {}, { eventId: 'e1' }]);
    expect(v.disagreements).toEqual(['event e1 has 2 deliveries to one subscription: d1, d3']);
  });

  it('finds a log that says delivered for what no receiver accepted', () => {
    const v = world([receipt('d1', 1, 1_000, 200), receipt('d2', 1, 1_500, 500)], [{}, { status: 'delivered' }]);
    expect(v.disagreements.join('\n')).toMatch(/d2 is delivered in the log, its receiver never accepted it/);
  });

  it('measures a memory slope in MiB per minute', () => {
    expect(slopePerMinute([0, 1, 2, 3].map((m) => ({ at: m * 60_000, mb: 100 + 2 * m })))).toBeCloseTo(2);
  });
});
