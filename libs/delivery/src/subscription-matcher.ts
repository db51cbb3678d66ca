import { EventEnvelope, eventTypeMatches } from '@hookhub/contracts';

export interface MatchableSubscription {
  eventTypes: string[];
  modelIds: string[] | null;
}

/** One of the subscription's patterns matches the event's type, and it names no models or the event's. */
export function subscriptionMatches(sub: MatchableSubscription, event: Pick<EventEnvelope, 'type' | 'model_id'>): boolean {
  if (!sub.eventTypes.some((p) => eventTypeMatches(p, event.type))) return false;
  return !sub.modelIds || sub.modelIds.length === 0 || sub.modelIds.includes(event.model_id);
}
