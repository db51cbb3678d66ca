import { EVENT_TYPE_PATTERN_SYNTAX, EVENT_TYPE_SYNTAX, eventTypeMatches, parseEventTypePattern, patternsMatchingEventType } from './event-type-pattern';
import { EventCatalogue } from './event-catalogue';
import { EVENT_TYPES, SYSTEM_EVENT_GROUP } from './event-types';

const domainTypes = EVENT_TYPES.filter((t) => !t.startsWith(`${SYSTEM_EVENT_GROUP}.`));
const groups = [...new Set(EVENT_TYPES.map((t) => t.split('.')[0]))];

describe('event-type syntax', () => {
  it.each([['ticket.created'], ['ticket.status_changed'], ['webhook.disabled']])('accepts the type %s', (type) => {
    expect(EVENT_TYPE_SYNTAX.test(type)).toBe(true);
    expect(EVENT_TYPE_PATTERN_SYNTAX.test(type)).toBe(true);
  });

  it.each([['ticket'], ['ticket.'], ['.created'], ['Ticket.created'], ['ticket.created.extra'], ['ticket.cre-ated'], ['ticket.*'], ['*'], [' ticket.created']])(
    'rejects %j as a type',
    (value) => {
      expect(EVENT_TYPE_SYNTAX.test(value)).toBe(false);
    },
  );

  it.each([['*.created'], ['ticket*'], ['ticket.cre*'], ['**'], ['ticket.*.*'], ['ticket'], ['*.*'], ['']])('rejects the pattern %j', (value) => {
    expect(EVENT_TYPE_PATTERN_SYNTAX.test(value)).toBe(false);
    expect(parseEventTypePattern(value)).toBeNull();
  });

  it('parses each form of pattern', () => {
    expect(parseEventTypePattern('*')).toEqual({ kind: 'all' });
    expect(parseEventTypePattern('ticket.*')).toEqual({ kind: 'group', group: 'ticket' });
    expect(parseEventTypePattern('ticket.created')).toEqual({ kind: 'type', type: 'ticket.created' });
  });
});

describe('EventCatalogue.isKnownPattern', () => {
  const catalogue = new EventCatalogue();

  it('knows *, every group of the built-in catalogue and every type of it', () => {
    expect(catalogue.isKnownPattern(null, '*')).toBe(true);
    for (const g of groups) expect(catalogue.isKnownPattern(null, `${g}.*`)).toBe(true);
    for (const t of EVENT_TYPES) expect(catalogue.isKnownPattern(null, t)).toBe(true);
  });

  it.each([['ticket.exploded'], ['nosuchgroup.*'], ['nosuchgroup.created'], ['tickets.*'], ['ticket.*.*'], ['Ticket.created']])(
    'does not know %s',
    (pattern) => {
      expect(catalogue.isKnownPattern(null, pattern)).toBe(false);
    },
  );
});

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

describe('patternsMatchingEventType', () => {
  const known = ['*', ...groups.map((g) => `${g}.*`), ...EVENT_TYPES];

  it.each(EVENT_TYPES.map((t) => [t]))('lists exactly the known patterns that match %s', (type) => {
    expect(new Set(patternsMatchingEventType(type))).toEqual(new Set(known.filter((p) => eventTypeMatches(p, type))));
  });

  it('leaves * out for operational events', () => {
    expect(patternsMatchingEventType(`${SYSTEM_EVENT_GROUP}.disabled`)).toEqual([`${SYSTEM_EVENT_GROUP}.disabled`, `${SYSTEM_EVENT_GROUP}.*`]);
    expect(patternsMatchingEventType('ticket.created')).toEqual(['ticket.created', 'ticket.*', '*']);
  });
});
