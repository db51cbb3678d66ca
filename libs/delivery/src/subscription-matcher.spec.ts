import { subscriptionMatches } from './subscription-matcher';

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
