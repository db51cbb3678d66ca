import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { HookhubClient } from './client';
import { HookhubValidationError, type ProblemFieldError } from './errors';

type JsonSchema = Record<string, unknown>;

/** One schema version of an event type, as `GET /v1/event-types` lists it. */
export interface CatalogueVersion {
  version: number;
  /** JSON Schema (2020-12) of the whole event, envelope included. */
  schema: JsonSchema;
  deprecated?: boolean;
}

/**
 * An item of `GET /v1/event-types`. Catalogues with schema versions carry
 * `latest_version` and `versions`; older ones only `schema`, which is then
 * version 1.
 */
export interface CatalogueEventType {
  type: string;
  model_type: string;
  /** The whole type is deprecated. */
  deprecated?: boolean;
  schema?: JsonSchema;
  latest_version?: number;
  versions?: CatalogueVersion[];
}

/** An event type at one schema version, ready to validate envelopes. */
export interface ResolvedEventType {
  type: string;
  modelType: string;
  version: number;
  /** The version, or the whole type, is deprecated in the catalogue. */
  deprecated: boolean;
  /** The envelope's problems against this version's schema, one per field; empty when it is valid. */
  validate(envelope: unknown): ProblemFieldError[];
}

export interface EventTypeCatalogueOptions {
  /** How long a fetched catalogue is used before it is fetched again (default 5 minutes). */
  ttlMs?: number;
  /** A type or version not in the catalogue fetches it again at most this often (default 10 s). */
  refreshOnMissMs?: number;
}

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
 * Ajv's errors as one entry per field, as the hub's problems list them. A
 * nullable model is `oneOf: [null, schema]`, for which Ajv reports the null
 * branch, the schema branch and the oneOf: only the schema branch says what to fix.
 */
function describe(errors: ErrorObject[] | null | undefined): ProblemFieldError[] {
  const all = errors ?? [];
  const oneOfAt = new Set(all.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const useful = all.filter((e) => !(oneOfAt.has(e.instancePath) && (e.keyword === 'oneOf' || (e.keyword === 'type' && e.schemaPath.includes('/oneOf/0/')))));
  const byField = new Map<string, ProblemFieldError>();
  for (const e of useful) {
    const missing = e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : undefined;
    const pointer = missing === undefined ? e.instancePath : `${e.instancePath}/${missing}`;
    const extra = e.keyword === 'additionalProperties' ? String((e.params as { additionalProperty: string }).additionalProperty) : '';
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

/** The versions of an item: its `versions`, or its top-level `schema` as version 1 (a catalogue without versions). */
function versionsOf(item: CatalogueEventType): CatalogueVersion[] {
  if (Array.isArray(item.versions) && item.versions.length > 0) return item.versions;
  return item.schema ? [{ version: 1, schema: item.schema, deprecated: false }] : [];
}

function latestOf(item: CatalogueEventType, versions: CatalogueVersion[]): number {
  if (typeof item.latest_version === 'number') return item.latest_version;
  return Math.max(...versions.map((v) => v.version));
}

interface Snapshot {
  items: Map<string, CatalogueEventType>;
  fetchedAt: number;
  ajv: Ajv2020;
  compiled: Map<string, ValidateFunction>;
}

/**
 * The hub's event-type catalogue, fetched from `GET /v1/event-types` and
 * kept for `ttlMs`, with each type's schemas compiled once (Ajv, JSON Schema
 * 2020-12 with formats): what the direct JetStream publisher validates
 * against before it publishes, since nothing between it and the dispatcher
 * checks the event.
 */
export class EventTypeCatalogue {
  private snapshot?: Snapshot;
  private loading?: Promise<Snapshot>;
  private readonly ttlMs: number;
  private readonly refreshOnMissMs: number;

  constructor(
    private readonly source: () => Promise<CatalogueEventType[]>,
    options: EventTypeCatalogueOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.refreshOnMissMs = options.refreshOnMissMs ?? 10_000;
  }

  /** The catalogue of the hub `client` talks to, with its API key. */
  static fromClient(client: HookhubClient, options: EventTypeCatalogueOptions = {}): EventTypeCatalogue {
    return new EventTypeCatalogue(async () => (await client.eventTypes()).items, options);
  }

  /**
   * `type` at `version` (default: its latest). Throws a
   * `HookhubValidationError` when the catalogue, fetched again if it is not
   * fresh, has no such type or version.
   */
  async resolve(type: string, version?: number): Promise<ResolvedEventType> {
    let snapshot = await this.current();
    let found = this.lookup(snapshot, type, version);
    if (!found && Date.now() - snapshot.fetchedAt >= this.refreshOnMissMs) {
      snapshot = await this.current(true);
      found = this.lookup(snapshot, type, version);
    }
    if (!found) {
      const item = snapshot.items.get(type);
      if (!item)
        throw new HookhubValidationError(`unknown event type '${type}'; see GET /v1/event-types`, [{ pointer: '#/type', detail: 'is not in the catalogue' }]);
      const known = versionsOf(item)
        .map((v) => v.version)
        .join(', ');
      throw new HookhubValidationError(`event type '${type}' has no schema version ${String(version)} (it has ${known})`, [
        { pointer: '#/schema_version', detail: `must be one of: ${known}` },
      ]);
    }
    const { item, entry } = found;
    const key = `${type}\u0000${entry.version}`;
    let validator = snapshot.compiled.get(key);
    if (!validator) {
      validator = snapshot.ajv.compile(entry.schema);
      snapshot.compiled.set(key, validator);
    }
    const compiled = validator;
    return {
      type,
      modelType: item.model_type,
      version: entry.version,
      deprecated: entry.deprecated === true || item.deprecated === true,
      validate: (envelope) => (compiled(envelope) ? [] : describe(compiled.errors)),
    };
  }

  private lookup(snapshot: Snapshot, type: string, version?: number): { item: CatalogueEventType; entry: CatalogueVersion } | undefined {
    const item = snapshot.items.get(type);
    if (!item) return undefined;
    const versions = versionsOf(item);
    if (versions.length === 0) return undefined;
    const wanted = version ?? latestOf(item, versions);
    const entry = versions.find((v) => v.version === wanted);
    return entry ? { item, entry } : undefined;
  }

  private async current(force = false): Promise<Snapshot> {
    if (!force && this.snapshot && Date.now() - this.snapshot.fetchedAt < this.ttlMs) return this.snapshot;
    // Concurrent publishes share one fetch.
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<Snapshot> {
    const items = await this.source();
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    this.snapshot = { items: new Map(items.map((i) => [i.type, i])), fetchedAt: Date.now(), ajv, compiled: new Map() };
    return this.snapshot;
  }
}
