import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { EventEnvelope } from '../envelope';
import { EVENT_TYPE_DEFINITIONS, eventTypeDefinition } from './event-types';
import { envelopeSchema } from './envelope-schema';

export interface EventValidationError {
  pointer: string;
  detail: string;
}

export type EventValidationResult = { ok: true; event: EventEnvelope } | { ok: false; errors: EventValidationError[] };

function describe(errors: ErrorObject[] | null | undefined): EventValidationError[] {
  return (errors ?? []).map((e) => ({
    pointer: `#${e.instancePath}`,
    detail:
      e.keyword === 'additionalProperties'
        ? `unknown field '${String((e.params as { additionalProperty: string }).additionalProperty)}'`
        : (e.message ?? 'is invalid'),
  }));
}

/**
 * Checks an event against the catalogue's JSON Schemas. The same schemas are
 * served by `GET /v1/event-types`, so what the hub accepts is exactly what it
 * documents.
 */
export class EventValidator {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    for (const def of EVENT_TYPE_DEFINITIONS) this.validators.set(def.type, ajv.compile(envelopeSchema(def)));
  }

  validate(candidate: unknown): EventValidationResult {
    const type = (candidate as { type?: unknown } | null)?.type;
    if (typeof type !== 'string') return { ok: false, errors: [{ pointer: '#/type', detail: 'is required' }] };
    const validate = this.validators.get(type);
    if (!validate || !eventTypeDefinition(type)) {
      return { ok: false, errors: [{ pointer: '#/type', detail: `unknown event type '${type}'` }] };
    }
    if (!validate(candidate)) return { ok: false, errors: describe(validate.errors) };
    const event = candidate as EventEnvelope;
    if (event.model && event.model.id !== event.model_id) {
      return { ok: false, errors: [{ pointer: '#/model/id', detail: 'must equal model_id' }] };
    }
    return { ok: true, event };
  }
}
