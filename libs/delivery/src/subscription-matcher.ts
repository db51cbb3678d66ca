import { LRUCache } from 'lru-cache';
import { compileSubscriptionFilter, EnvelopeTest, eventTypeMatches, SubscriptionFilter } from '@hookhub/contracts';

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
 * lists no versions for: every version). The payload filter comes after this,
 * on the envelope (`SubscriptionFilters`).
 */
export function subscriptionMatches(sub: MatchableSubscription, event: MatchableEvent): boolean {
  if (!sub.eventTypes.some((p) => eventTypeMatches(p, event.type))) return false;
  if (sub.modelIds && sub.modelIds.length > 0 && !sub.modelIds.includes(event.modelId)) return false;
  const versions = sub.schemaVersions?.[event.type];
  return !versions || versions.includes(event.schemaVersion);
}

/** What a payload filter is compiled from: the subscription, its filter, and the version of its row. */
export interface FilteredSubscription {
  id: string;
  filter: SubscriptionFilter | null;
  updatedAt: Date;
}

/** Never matches: what a stored filter that no longer compiles becomes. */
const NOTHING: EnvelopeTest = () => false;

/**
 * Compiled payload filters by subscription, each compiled once per version of
 * the subscription's row (`updated_at`, which every change through the API
 * moves) rather than for each event or each batch: a fan-out reads its
 * subscriptions anew every batch, and a compiled filter is ready for the next.
 * An LRU bounds the memory of a pod that sees many tenants.
 */
export class SubscriptionFilters {
  private readonly compiled: LRUCache<string, { version: number; test: EnvelopeTest }>;

  /** `onInvalid`: told once per version of a stored filter that does not compile (it then matches nothing). */
  constructor(
    private readonly onInvalid: (subscriptionId: string, err: Error) => void,
    max = 10_000,
  ) {
    this.compiled = new LRUCache({ max });
  }

  /** The subscription's filter as a test of envelopes, or null when it has none (every event passes). */
  testFor(sub: FilteredSubscription): EnvelopeTest | null {
    if (!sub.filter) return null;
    const version = sub.updatedAt.getTime();
    const cached = this.compiled.get(sub.id);
    if (cached?.version === version) return cached.test;
    let test: EnvelopeTest;
    try {
      test = compileSubscriptionFilter(sub.filter);
    } catch (err) {
      // Refused at create and PATCH, so only a filter stored by an older, laxer hub lands here. It keeps
      // everything out rather than letting through the events its owner meant to exclude.
      this.onInvalid(sub.id, err as Error);
      test = NOTHING;
    }
    this.compiled.set(sub.id, { version, test });
    return test;
  }
}
