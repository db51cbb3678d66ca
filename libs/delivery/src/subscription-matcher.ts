import { EventEnvelope, SYSTEM_EVENT_GROUP } from '@hookhub/contracts';

export interface MatchableSubscription {
  eventTypes: string[];
  modelIds: string[] | null;
}

/**
 * `*` matches every domain event, `ticket.*` every ticket event, anything else
 * only itself. Operational `webhook.*` events must be named to be received.
 */
export function eventTypeMatches(pattern: string, type: string): boolean {
  if (pattern === type) return true;
  if (pattern === '*') return !type.startsWith(`${SYSTEM_EVENT_GROUP}.`);
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

export function subscriptionMatches(sub: MatchableSubscription, event: Pick<EventEnvelope, 'type' | 'model_id'>): boolean {
  if (!sub.eventTypes.some((p) => eventTypeMatches(p, event.type))) return false;
  return !sub.modelIds || sub.modelIds.length === 0 || sub.modelIds.includes(event.model_id);
}
