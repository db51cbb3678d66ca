import type { EventEnvelope } from '@hookhub/contracts';

/** The tenant of an envelope that does not name one. */
export const TEST_TENANT_ID = '3b5c0c1e-0000-4000-8000-000000000001';

/**
 * An event as a trusted service publishes it: a ticket update by no actor,
 * whose model snapshot is just the ticket's id. Tests name what matters to them.
 */
export function anEnvelope(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  const modelId = overrides.model_id ?? 't-1';
  return {
    id: 'evt-1',
    account_id: TEST_TENANT_ID,
    account_url: '',
    created_at: new Date().toISOString(),
    type: 'ticket.updated',
    data: {},
    actor_type: null,
    actor_id: null,
    actor_name: null,
    model_type: 'ticket',
    model_id: modelId,
    model: { id: modelId },
    ...overrides,
  };
}
