import { eventTypeMatches } from '@hookhub/contracts';

export interface MatchableSubscription {
  eventTypes: string[];
  modelIds: string[] | null;
  schemaVersions: Record<string, number[]> | null;
}

/** What matching looks at in an event. */
export interface MatchableEvent {
  type: string;
  modelId: string;
  schemaVersion: number;
}

/**
 * One of the subscription's patterns matches the event's type, it names no
 * models or the event's, and it accepts the event's schema version (a type it
 * lists no versions for: every version).
 */
export function subscriptionMatches(sub: MatchableSubscription, event: MatchableEvent): boolean {
  if (!sub.eventTypes.some((p) => eventTypeMatches(p, event.type))) return false;
  if (sub.modelIds && sub.modelIds.length > 0 && !sub.modelIds.includes(event.modelId)) return false;
  const versions = sub.schemaVersions?.[event.type];
  return !versions || versions.includes(event.schemaVersion);
}
