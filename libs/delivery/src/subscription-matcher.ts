import type { EventEnvelope } from '@hookhub/contracts';

export interface MatchableSubscription {
  eventTypes: string[];
  modelIds: string[] | null;
}

/** `*` matches everything, `ticket.*` every ticket event, anything else only itself. */
export function eventTypeMatches(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

export function subscriptionMatches(sub: MatchableSubscription, event: Pick<EventEnvelope, 'type' | 'model_id'>): boolean {
  if (!sub.eventTypes.some((p) => eventTypeMatches(p, event.type))) return false;
  return !sub.modelIds || sub.modelIds.length === 0 || sub.modelIds.includes(event.model_id);
}
