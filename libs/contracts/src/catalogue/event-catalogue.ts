import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import type { RegExpEngine } from 'ajv/dist/types';
import { RE2JS } from 're2js';
import addFormats from 'ajv-formats';
import { EventEnvelope, withSchemaVersion } from '../envelope';
import type { ResourceLocation } from '../thin-notification';
import { EVENT_TYPE_DEFINITIONS, EventTypeDefinition, EventTypeVersion, latestVersion } from './event-types';
import { envelopeSchema } from './envelope-schema';
import { parseEventTypePattern } from './event-type-pattern';
import { resourceCollection, resourceLocation } from './resource-path';

export interface EventValidationError {
  pointer: string;
  detail: string;
}

export type EventValidationResult =
  | { ok: true; event: EventEnvelope; definition: EventTypeDefinition; version: EventTypeVersion }
  | { ok: false; errors: EventValidationError[]; reason: 'unknown-type' | 'unknown-version' | 'invalid' };

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
 * The regular-expression engine of schemas written by tenants and the platform (`pattern`,
 * `patternProperties`): RE2 (re2js) matches in linear time, so no pattern can make validation of
 * an event backtrack for seconds and stall every tenant's publishing. Patterns RE2 cannot run
 * (look-arounds, back-references) are refused when the schema is submitted.
 */
const re2: RegExpEngine = Object.assign(
  (pattern: string): { test: (s: string) => boolean; toString: () => string } => {
    const compiled = RE2JS.compile(pattern);
    // Ajv caches compiled patterns by their text (`toString`): without it, every pattern would share the first.
    return { test: (s: string) => compiled.test(s), toString: () => `re2:${pattern}` };
  },
  { code: 're2js' },
);

/** `defined`: the schema is a tenant's or the platform's, not the hub's own (see `re2`). */
const newAjv = (defined: boolean): Ajv2020 => {
  const ajv = new Ajv2020({ allErrors: true, strict: false, ...(defined ? { code: { regExp: re2 } } : {}) });
  addFormats(ajv);
  return ajv;
};

/**
 * Compiles each version's schema once, the first time an event of it is
 * validated, and keeps it: versions never change, so a compiled schema is
 * valid for as long as the process runs, across catalogue refreshes.
 */
export class SchemaCompiler {
  private readonly builtIn = newAjv(false);
  private readonly defined = newAjv(true);
  private readonly compiled = new Map<string, ValidateFunction>();

  validatorFor(def: EventTypeDefinition, version: EventTypeVersion): ValidateFunction {
    const key = `${def.key}@${version.version}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = (def.scope === 'builtin' ? this.builtIn : this.defined).compile(envelopeSchema(def, version));
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /**
   * What is wrong with a schema submitted for a new version, one entry per
   * problem, pointing into it under `at` (e.g. `#/model_schema`): not a 2020-12
   * JSON Schema, or one that does not compile (an unresolvable `$ref`, a
   * regular expression RE2 cannot run). A scratch Ajv keeps failed compiles out of the cache.
   */
  static problemsOf(schema: unknown, at: string): EventValidationError[] {
    const ajv = newAjv(true);
    let valid: boolean;
    try {
      valid = ajv.validateSchema(schema as object) as boolean;
    } catch (err) {
      // A `$schema` naming a meta-schema Ajv does not hold (draft-07, one's own URL) throws instead of failing.
      return [{ pointer: `${at}/$schema`, detail: (err as Error).message }];
    }
    if (!valid) {
      // The meta-schema's alternatives each report on the same place ("must be one of", "must be array", "must match anyOf"):
      // the first says what to write there.
      const byPointer = new Map<string, EventValidationError>();
      for (const e of ajv.errors ?? []) {
        const pointer = `${at}${e.instancePath}`;
        if (!byPointer.has(pointer)) byPointer.set(pointer, { pointer, detail: message(e) });
      }
      return [...byPointer.values()];
    }
    try {
      ajv.compile(schema as object);
      return [];
    } catch (err) {
      return [{ pointer: at, detail: (err as Error).message }];
    }
  }
}

/**
 * The event types a hub knows: the built-in catalogue, the platform's types
 * (every tenant sees them) and each tenant's own. A snapshot: the registry
 * builds a new one when types change, sharing the compiled schemas.
 */
export class EventCatalogue {
  /** Built-in and platform types by name: every tenant sees them. */
  private readonly shared = new Map<string, EventTypeDefinition>();
  private readonly ownTypes = new Map<string, Map<string, EventTypeDefinition>>();

  constructor(
    defined: readonly EventTypeDefinition[] = [],
    private readonly compiler = new SchemaCompiler(),
  ) {
    for (const def of [...EVENT_TYPE_DEFINITIONS, ...defined]) {
      if (def.scope !== 'tenant' || def.tenantId === null) {
        this.shared.set(def.type, def);
        continue;
      }
      let own = this.ownTypes.get(def.tenantId);
      if (!own) this.ownTypes.set(def.tenantId, (own = new Map()));
      own.set(def.type, def);
    }
  }

  /** A catalogue of these defined types that keeps this one's compiled schemas. */
  with(defined: readonly EventTypeDefinition[]): EventCatalogue {
    return new EventCatalogue(defined, this.compiler);
  }

  /** The type `type` as `tenantId` sees it (null: the platform, which sees only built-in and platform types). */
  find(tenantId: string | null, type: string): EventTypeDefinition | undefined {
    return this.shared.get(type) ?? (tenantId === null ? undefined : this.ownTypes.get(tenantId)?.get(type));
  }

  /** Every type `tenantId` sees, by name. */
  visibleTo(tenantId: string | null): EventTypeDefinition[] {
    const own = tenantId === null ? [] : [...(this.ownTypes.get(tenantId)?.values() ?? [])];
    return [...this.shared.values(), ...own].sort((a, b) => a.type.localeCompare(b.type));
  }

  /** Whether `pattern` is a pattern that names something `tenantId` sees: `*`, a group of its types, or one of them. */
  isKnownPattern(tenantId: string | null, pattern: string): boolean {
    const parsed = parseEventTypePattern(pattern);
    switch (parsed?.kind) {
      case 'all':
        return true;
      case 'group':
        return this.visibleTo(tenantId).some((d) => d.type.startsWith(`${parsed.group}.`));
      case 'type':
        return this.find(tenantId, parsed.type) !== undefined;
      default:
        return false;
    }
  }

  /**
   * Checks an event against its type's schema in `schemaVersion` (default: the
   * latest), for the tenant in its `account_id`, and tags it with the version.
   */
  validate(candidate: unknown, schemaVersion?: number): EventValidationResult {
    const fields = candidate as { type?: unknown; account_id?: unknown } | null;
    const type = fields?.type;
    if (typeof type !== 'string') return { ok: false, reason: 'invalid', errors: [{ pointer: '#/type', detail: 'is required' }] };
    const tenantId = typeof fields?.account_id === 'string' ? fields.account_id : null;
    const def = this.find(tenantId, type);
    if (!def) return { ok: false, reason: 'unknown-type', errors: [{ pointer: '#/type', detail: `unknown event type '${type}'` }] };
    const version = schemaVersion === undefined ? latestVersion(def) : def.versions.find((v) => v.version === schemaVersion);
    if (!version) {
      const known = def.versions.map((v) => v.version).join(', ');
      return {
        ok: false,
        reason: 'unknown-version',
        errors: [{ pointer: '#/schema_version', detail: `event type '${type}' has no schema version ${schemaVersion} (it has ${known})` }],
      };
    }
    const validate = this.compiler.validatorFor(def, version);
    if (!validate(candidate)) return { ok: false, reason: 'invalid', errors: describe(validate.errors) };
    const event = candidate as EventEnvelope;
    if (event.model && event.model.id !== event.model_id) {
      return { ok: false, reason: 'invalid', errors: [{ pointer: '#/model/id', detail: 'must equal model_id' }] };
    }
    return { ok: true, event: withSchemaVersion(event, version.version), definition: def, version };
  }

  /**
   * The resource at `path`: a `resource_path` of a defined type `tenantId` sees, with a model id in
   * place of `{id}` (built-in resources have routes of their own).
   */
  definedResourceAt(tenantId: string, path: string): { definition: EventTypeDefinition; id: string } | undefined {
    const candidates = [...this.shared.values(), ...(this.ownTypes.get(tenantId)?.values() ?? [])];
    for (const definition of candidates) {
      if (definition.scope === 'builtin') continue;
      const prefix = `${resourceCollection(definition.resourcePath)}/`;
      const rest = path.startsWith(prefix) ? path.slice(prefix.length) : '';
      if (rest === '' || rest.includes('/')) continue;
      try {
        return { definition, id: decodeURIComponent(rest) };
      } catch {
        return undefined; // not a percent-encoding of any id
      }
    }
    return undefined;
  }

  /** Where a thin notification of `event` tells its receiver to read the resource, and its topic. */
  locate(event: EventEnvelope): ResourceLocation {
    const def = this.find(event.account_id, event.type);
    if (!def) throw new Error(`event ${event.id} has the unknown type '${event.type}'`);
    return resourceLocation(def, event);
  }
}
