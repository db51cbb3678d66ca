import { EVENT_TYPES, SYSTEM_EVENT_GROUP } from '@hookhub/contracts';
import { eventTypeMatches, subscriptionMatches } from './subscription-matcher';

const domainTypes = EVENT_TYPES.filter((t) => !t.startsWith(`${SYSTEM_EVENT_GROUP}.`));

describe('eventTypeMatches', () => {
  it.each(domainTypes.map((t) => [t]))("'*' matches the domain event %s", (type) => {
    expect(eventTypeMatches('*', type)).toBe(true);
  });

  it("'*' matches event types outside the catalogue too", () => {
    expect(eventTypeMatches('*', 'anything.at_all')).toBe(true);
  });

  it("'*' does not match operational webhook.* events, which must be named", () => {
    expect(eventTypeMatches('*', `${SYSTEM_EVENT_GROUP}.disabled`)).toBe(false);
    expect(eventTypeMatches(`${SYSTEM_EVENT_GROUP}.*`, `${SYSTEM_EVENT_GROUP}.disabled`)).toBe(true);
    expect(eventTypeMatches(`${SYSTEM_EVENT_GROUP}.disabled`, `${SYSTEM_EVENT_GROUP}.disabled`)).toBe(true);
  });

  it("'ticket.*' matches every ticket event", () => {
    expect(eventTypeMatches('ticket.*', 'ticket.created')).toBe(true);
    expect(eventTypeMatches('ticket.*', 'ticket.deleted')).toBe(true);
    expect(eventTypeMatches('ticket.*', 'ticket.status_changed')).toBe(true);
  });

  it.each([['message.created'], ['tickets.created'], ['ticket'], ['ticketcreated'], ['xticket.created'], ['survey.response_completed']])(
    "'ticket.*' does not match %s",
    (type) => {
      expect(eventTypeMatches('ticket.*', type)).toBe(false);
    },
  );

  it('matches an exact pattern only to itself', () => {
    expect(eventTypeMatches('ticket.created', 'ticket.created')).toBe(true);
    expect(eventTypeMatches('ticket.created', 'ticket.updated')).toBe(false);
    expect(eventTypeMatches('ticket.created', 'ticket.created.extra')).toBe(false);
    expect(eventTypeMatches('ticket.created', 'message.created')).toBe(false);
    expect(eventTypeMatches('ticket.created', 'ticket.*')).toBe(false);
  });

  it('treats other wildcards literally', () => {
    expect(eventTypeMatches('*.created', 'ticket.created')).toBe(false);
    expect(eventTypeMatches('ticket*', 'ticket.created')).toBe(false);
    expect(eventTypeMatches('ticket.cre*', 'ticket.created')).toBe(false);
  });
});

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
