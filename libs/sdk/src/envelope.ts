/**
 * A domain event in the hub's full format: the envelope, the event's `data`
 * and a snapshot of the resource in `model`. Receivers get these bytes and
 * the signature covers them, so the field order is part of the format.
 */
export interface EventEnvelope {
  id: string;
  account_id: string;
  account_url: string;
  created_at: string;
  type: string;
  data: Record<string, unknown>;
  actor_type: string | null;
  actor_id: string | null;
  actor_name: string | null;
  model_type: string;
  model_id: string;
  model: (Record<string, unknown> & { id: string }) | null;
}

/** The wire order of the envelope's fields, the hub's own (kept in step with it by test/e2e/sdk.e2e-spec.ts). */
export const ENVELOPE_FIELDS = [
  'id',
  'account_id',
  'account_url',
  'created_at',
  'type',
  'data',
  'actor_type',
  'actor_id',
  'actor_name',
  'model_type',
  'model_id',
  'model',
] as const satisfies readonly (keyof EventEnvelope)[];

/** The envelope with its fields in wire order; optional ones take the hub's defaults. */
export function canonicalEnvelope(e: EventEnvelope): EventEnvelope {
  return {
    id: e.id,
    account_id: e.account_id,
    account_url: e.account_url ?? '',
    created_at: e.created_at,
    type: e.type,
    data: e.data,
    actor_type: e.actor_type ?? null,
    actor_id: e.actor_id ?? null,
    actor_name: e.actor_name ?? null,
    model_type: e.model_type,
    model_id: e.model_id,
    model: e.model ?? null,
  };
}

/** The exact bytes the hub publishes, stores and delivers for an envelope. */
export function serializeEnvelope(e: EventEnvelope): string {
  return JSON.stringify(canonicalEnvelope(e));
}
