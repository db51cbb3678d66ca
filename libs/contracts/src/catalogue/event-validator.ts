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

function message(e: ErrorObject): string {
  const params = e.params as { additionalProperty?: string; allowedValue?: unknown; allowedValues?: unknown[] };
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field '${String(params.additionalProperty)}'`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'enum':
      return `must be one of: ${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return e.message ?? 'is invalid';
  }
}

/**
 * One message per field. A nullable model is `oneOf: [null, schema]`: Ajv
 * reports the null branch ("must be null"), the schema branch and the oneOf
 * itself, which contradict each other; only the schema branch's say what to fix.
 */
function describe(errors: ErrorObject[] | null | undefined): EventValidationError[] {
  const all = errors ?? [];
  const oneOfAt = new Set(all.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const useful = all.filter((e) => !(oneOfAt.has(e.instancePath) && (e.keyword === 'oneOf' || (e.keyword === 'type' && e.schemaPath.includes('/oneOf/0/')))));
  const byField = new Map<string, EventValidationError>();
  for (const e of useful) {
    // A missing field is reported on its parent by Ajv: point at the field itself, so each gets its own message.
    const missing = e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : undefined;
    const pointer = missing === undefined ? e.instancePath : `${e.instancePath}/${missing}`;
    const extra = e.keyword === 'additionalProperties' ? (e.params as { additionalProperty: string }).additionalProperty : '';
    const key = `${pointer}\u0000${extra}`;
    if (!byField.has(key)) byField.set(key, { pointer: `#${pointer}`, detail: missing === undefined ? message(e) : `${missing} is required` });
  }
  const found = [...byField.values()];
  for (const path of oneOfAt) {
    if (!found.some((f) => f.pointer === `#${path}` || f.pointer.startsWith(`#${path}/`)))
      found.push({ pointer: `#${path}`, detail: 'must be null or an object' });
  }
  return found;
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
