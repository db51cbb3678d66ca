import { subscriptionMatches } from './subscription-matcher';

describe('subscriptionMatches', () => {
  const event = { type: 'ticket.updated', model_id: 'T-1' };

  it('requires one of the patterns to match', () => {
    expect(subscriptionMatches({ eventTypes: ['message.*', 'ticket.updated'], modelIds: null }, event)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['message.*', 'ticket.created'], modelIds: null }, event)).toBe(false);
    expect(subscriptionMatches({ eventTypes: [], modelIds: null }, event)).toBe(false);
  });

  it('does not filter by model when model ids are null or empty', () => {
    expect(subscriptionMatches({ eventTypes: ['*'], modelIds: null }, event)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['*'], modelIds: [] }, event)).toBe(true);
  });

  it('filters by model id when model ids are given', () => {
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: ['T-1', 'T-2'] }, event)).toBe(true);
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: ['T-2'] }, event)).toBe(false);
    expect(subscriptionMatches({ eventTypes: ['ticket.*'], modelIds: ['t-1'] }, event)).toBe(false);
  });

  it('needs both the type and the model id to match', () => {
    expect(subscriptionMatches({ eventTypes: ['message.*'], modelIds: ['T-1'] }, event)).toBe(false);
  });
});
