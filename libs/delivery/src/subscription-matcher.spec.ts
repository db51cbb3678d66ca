import { SubscriptionFilters, subscriptionMatches } from './subscription-matcher';

describe('subscriptionMatches', () => {
  const event = { type: 'ticket.updated', modelId: 'T-1', schemaVersion: 1 };

  it('requires one of the patterns to match', () => {
    expect(subscriptionMatches({ eventTypes: ['message.*', 'ticket.updated'], modelIds: null, schemaVersions: null }, event)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['message.*', 'ticket.created'], modelIds: null, schemaVersions: null }, event)).toBe(false);
    expect(subscriptionMatches({ eventTypes: [], modelIds: null, schemaVersions: null }, event)).toBe(false);
  });

  it('does not filter by model when model ids are null or empty', () => {
    expect(subscriptionMatches({ eventTypes: ['*'], modelIds: null, schemaVersions: null }, event)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['*'], modelIds: [], schemaVersions: null }, event)).toBe(true);
  });

  it('filters by model id when model ids are given', () => {
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: ['T-1', 'T-2'], schemaVersions: null }, event)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: ['T-2'], schemaVersions: null }, event)).toBe(false);
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: ['t-1'], schemaVersions: null }, event)).toBe(false);
  });

  it('filters by schema version for the types that list versions, and takes every version of the others', () => {
    const v2 = { ...event, schemaVersion: 2 };
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: null, schemaVersions: { 'ticket.updated': [1] } }, event)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: null, schemaVersions: { 'ticket.updated': [1] } }, v2)).toBe(false);
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: null, schemaVersions: { 'ticket.updated': [1, 2] } }, v2)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: null, schemaVersions: { 'ticket.created': [1] } }, v2)).toBe(true);
  });

  it('needs both the type and the model id to match', () => {
    expect(subscriptionMatches({ eventTypes: ['message.*'], modelIds: ['T-1'], schemaVersions: null }, event)).toBe(false);
  });
});

describe('SubscriptionFilters', () => {
  const high = { model: { priority: 'high' } };
  const low = { model: { priority: 'low' } };
  const sub = (filter: Record<string, unknown> | null, updatedAt = new Date(1_000)) => ({ id: 'sub-1', filter, updatedAt });

  it('has no test for a subscription without a filter', () => {
    expect(new SubscriptionFilters(jest.fn()).testFor(sub(null))).toBeNull();
  });

  it('compiles a filter once per version of the subscription, and again when the version moves', () => {
    const filters = new SubscriptionFilters(jest.fn());
    const first = filters.testFor(sub({ 'model.priority': 'high' }))!;
    expect([first(high), first(low)]).toEqual([true, false]);
    // The same version read again in the next batch (a new object from PostgreSQL): the same compiled test.
    expect(filters.testFor(sub({ 'model.priority': 'high' }))).toBe(first);
    const changed = filters.testFor(sub({ 'model.priority': 'low' }, new Date(2_000)))!;
    expect(changed).not.toBe(first);
    expect([changed(high), changed(low)]).toEqual([false, true]);
  });

  it('keeps every event out with a stored filter that does not compile, and says so once per version', () => {
    const onInvalid = jest.fn();
    const filters = new SubscriptionFilters(onInvalid);
    const test = filters.testFor(sub({ $where: 'true' }))!;
    expect(test(high)).toBe(false);
    filters.testFor(sub({ $where: 'true' }));
    expect(onInvalid).toHaveBeenCalledTimes(1);
    expect(onInvalid).toHaveBeenCalledWith('sub-1', expect.objectContaining({ message: expect.stringContaining('$where is not allowed') }));
  });
});
