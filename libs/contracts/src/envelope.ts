/**
 * The kinds of resource the built-in event types are about. Domain resources
 * have a `/v0` route; `subscription` is the hub's own, for operational events
 * (`webhook.*`). Event types defined through the API bring model types of
 * their own.
 */
export const MODEL_TYPES = ['ticket', 'message', 'survey_response', 'subscription'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export function isBuiltInModelType(modelType: string): modelType is ModelType {
  return (MODEL_TYPES as readonly string[]).includes(modelType);
}

/** A model snapshot as the REST API returns it; its shape depends on the model type. */
export type Model = Record<string, unknown> & { id: string };

/**
 * A domain event in the "full" format (after the Enchant sample): the
 * envelope, event-specific `data`, and a snapshot of the resource in `model`.
 * Field order here is the order on the wire.
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
  model: Model | null;
}

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

/**
 * Rebuilds an envelope with its fields in wire order, whatever order they were
 * stored or published in; optional fields take their documented defaults.
 */
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

/** The exact bytes a full-format subscriber receives and signs over. */
export function serializeEnvelope(e: EventEnvelope): string {
  return JSON.stringify(canonicalEnvelope(e));
}

/**
 * The schema version of an event travels beside the envelope, never in it
 * (the wire format is the seeds'): in the `Hookhub-Schema-Version` header on
 * JetStream and `X-Webhook-Schema-Version` on the webhook request. In memory
 * it is a symbol-keyed, non-enumerable property, so no serialisation of the
 * envelope can carry it.
 */
const SCHEMA_VERSION = Symbol('hookhub.schemaVersion');

/** The NATS header that names an event's schema version (absent: the type's latest when the dispatcher reads it). */
export const SCHEMA_VERSION_HEADER = 'Hookhub-Schema-Version';

/** Tags `event` with its schema version, and returns it. */
export function withSchemaVersion<T extends EventEnvelope>(event: T, version: number): T {
  Object.defineProperty(event, SCHEMA_VERSION, { value: version, enumerable: false, configurable: true, writable: true });
  return event;
}

/** The schema version `event` was tagged with, or 1 (every type's first) when it was not. */
export function schemaVersionOf(event: EventEnvelope): number {
  return (event as EventEnvelope & { [SCHEMA_VERSION]?: number })[SCHEMA_VERSION] ?? 1;
}
