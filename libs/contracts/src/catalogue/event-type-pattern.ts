import { SYSTEM_EVENT_GROUP } from './event-types';

/*
 * The grammar of event types and of the patterns a subscription lists in
 * `event_types`, written once for the API's validation, the catalogue check,
 * the dispatcher's matching and the subscription list's SQL filter:
 *
 *   type    = group "." name          e.g. ticket.created
 *   pattern = type | group ".*" | "*"
 *   group, name: lower-case letters, digits and underscores, not starting with a digit
 *
 * `group.*` is every type of that group; `*` is every domain event, but not
 * the operational `webhook.*` events, which a subscription must name.
 */

const NAME = '[a-z_][a-z0-9_]*';

/** The pattern of every domain event. */
export const EVERY_DOMAIN_EVENT = '*';

/** The syntax of an event type, e.g. `ticket.created`. */
export const EVENT_TYPE_SYNTAX = new RegExp(`^${NAME}\\.${NAME}$`);

/** The syntax of a subscription's event-type pattern: a type, `<group>.*` or `*`. */
export const EVENT_TYPE_PATTERN_SYNTAX = new RegExp(`^(\\*|${NAME}\\.\\*|${NAME}\\.${NAME})$`);

export type EventTypePattern = { kind: 'all' } | { kind: 'group'; group: string } | { kind: 'type'; type: string };

/** The pattern `pattern` says, or null when it is not one. */
export function parseEventTypePattern(pattern: string): EventTypePattern | null {
  if (!EVENT_TYPE_PATTERN_SYNTAX.test(pattern)) return null;
  if (pattern === EVERY_DOMAIN_EVENT) return { kind: 'all' };
  if (pattern.endsWith('.*')) return { kind: 'group', group: pattern.slice(0, -2) };
  return { kind: 'type', type: pattern };
}

/** Whether an event of `type` reaches a subscription listing `pattern`. Other wildcards are literal. */
export function eventTypeMatches(pattern: string, type: string): boolean {
  if (pattern === type) return true;
  if (pattern === EVERY_DOMAIN_EVENT) return !type.startsWith(`${SYSTEM_EVENT_GROUP}.`);
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

/**
 * Every pattern that matches the event type `type` (itself, its group's
 * `.*`, and `*` unless operational): what a query looks for among stored
 * patterns, e.g. `event_types && $patterns` in SQL.
 */
export function patternsMatchingEventType(type: string): string[] {
  const group = `${type.split('.')[0]}.*`;
  return type.startsWith(`${SYSTEM_EVENT_GROUP}.`) ? [type, group] : [type, group, EVERY_DOMAIN_EVENT];
}
