import { HttpStatus, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  BUILT_IN_RESOURCE_ROOTS,
  EVENT_TYPES,
  EventCatalogue,
  EventEnvelope,
  EventTypeDefinition,
  EventValidationError,
  exampleEnvelope,
  isBuiltInModelType,
  resourceCollection,
  SchemaCompiler,
  SYSTEM_EVENT_GROUP,
} from '@hookhub/contracts';
import { definitionOf, EventTypeRegistry } from '@hookhub/event-catalogue';
import { EventTypeRecord, EventTypeRepository, NewEventTypeVersion } from '@hookhub/persistence';
import { ProblemException, Problems } from '@hookhub/platform';
import {
  CreateEventTypeDto,
  EventTypeExampleDto,
  EventTypeList,
  EventTypeVersionDto,
  EventTypeView,
  MAX_SCHEMA_BYTES,
  UpdateEventTypeDto,
  UpdateEventTypeVersionDto,
} from './event-type.dto';

/** Groups that belong to the hub's own types: a defined type may not join them. */
const RESERVED_GROUPS = new Set([...EVENT_TYPES.map((t) => t.split('.')[0]), SYSTEM_EVENT_GROUP]);

const conflict = (slug: string, title: string, detail: string, pointer: string): ProblemException =>
  new ProblemException(HttpStatus.CONFLICT, slug, title, detail, { errors: [{ pointer, detail }] });

const invalid = (slug: string, title: string, errors: EventValidationError[]): ProblemException =>
  Problems.unprocessable(slug, title, errors.map((e) => `${e.pointer} ${e.detail}`).join('; '), errors);

/** The example's full event, as a full-format subscription would receive it. */
function exampleOf(type: string, modelType: string, example: EventTypeExampleDto): EventEnvelope {
  const modelId = typeof example.model?.id === 'string' ? example.model.id : (example.model_id ?? 'example-id');
  return exampleEnvelope(type, modelType, example.model, example.data ?? {}, modelId);
}

/**
 * Event types defined through the API: by the platform (admin token) for
 * every tenant, or by a tenant (admin key) for itself. Names, model types and
 * resource paths are checked against every type the owner's tenants could
 * see, under the registry's write lock; a version's schemas must compile and
 * its example must follow them.
 */
@Injectable()
export class EventTypesService {
  constructor(
    private readonly types: EventTypeRepository,
    private readonly registry: EventTypeRegistry,
  ) {}

  /** What `tenantId` sees (null: built-in and platform types). */
  list(tenantId: string | null): EventTypeList {
    return { items: this.registry.current().visibleTo(tenantId).map(EventTypeView.of), next_cursor: null };
  }

  async get(tenantId: string | null, name: string): Promise<EventTypeView> {
    const def = await this.registry.find(tenantId, name);
    if (!def) throw Problems.notFound('Event type');
    return EventTypeView.of(def);
  }

  /** `owner`: the tenant, or null for a platform type. */
  async create(owner: string | null, dto: CreateEventTypeDto): Promise<EventTypeView> {
    const group = dto.name.split('.')[0];
    if (RESERVED_GROUPS.has(group)) {
      throw invalid('reserved-event-type', 'Reserved event type', [{ pointer: '#/name', detail: `the group '${group}' belongs to the built-in event types` }]);
    }
    if (isBuiltInModelType(dto.model_type)) {
      throw invalid('reserved-model-type', 'Reserved model type', [{ pointer: '#/model_type', detail: `'${dto.model_type}' is a built-in model type` }]);
    }
    const saved = await this.types.locked(async (m) => {
      const relevant = await this.relevantTo(m, owner);
      if (relevant.some((r) => r.name === dto.name)) {
        throw conflict('event-type-exists', 'Event type exists', `an event type named '${dto.name}' exists already`, '#/name');
      }
      const { resourcePath, topic } = this.placeModelType(dto, relevant);
      const first = this.checkedVersion(dto.name, dto.model_type, dto);
      return this.types.create(m, { tenantId: owner, name: dto.name, description: dto.description, modelType: dto.model_type, resourcePath, topic }, first);
    });
    return this.viewAfterWrite(saved);
  }

  async addVersion(owner: string | null, name: string, dto: EventTypeVersionDto): Promise<EventTypeView> {
    const saved = await this.types.locked(async (m) => {
      const record = await this.owned(m, owner, name);
      const next = this.checkedVersion(name, record.modelType, dto);
      return this.types.addVersion(m, record.id, next);
    });
    return this.viewAfterWrite(saved);
  }

  async update(owner: string | null, name: string, dto: UpdateEventTypeDto): Promise<EventTypeView> {
    const saved = await this.types.locked(async (m) => this.types.update(m, (await this.owned(m, owner, name)).id, dto));
    return this.viewAfterWrite(saved);
  }

  async updateVersion(owner: string | null, name: string, version: number, dto: UpdateEventTypeVersionDto): Promise<EventTypeView> {
    const saved = await this.types.locked(async (m) => {
      const changed = await this.types.setVersionDeprecated(m, (await this.owned(m, owner, name)).id, version, dto.deprecated);
      if (!changed) throw Problems.notFound('Schema version');
      return changed;
    });
    return this.viewAfterWrite(saved);
  }

  /** Types whose names, model types and paths a new type of `owner` must not clash with: all those any of its tenants sees. */
  private async relevantTo(m: EntityManager, owner: string | null): Promise<EventTypeRecord[]> {
    const all = await this.types.all(m);
    return owner === null ? all : all.filter((r) => r.tenantId === null || r.tenantId === owner);
  }

  /** The owner's own type `name`; built-in and platform types cannot be changed by a tenant, nor tenants' types by the platform. */
  private async owned(m: EntityManager, owner: string | null, name: string): Promise<EventTypeRecord> {
    const record = await this.types.findOwned(m, owner, name);
    if (record) return record;
    const visible = this.registry.current().find(owner, name);
    if (visible) throw Problems.forbidden(`${name} is a ${visible.scope === 'builtin' ? 'built-in' : visible.scope} event type: only its owner can change it`);
    throw Problems.notFound('Event type');
  }

  /** The resource path and topic of the new type: those its model type has already, or the ones asked for if they are free. */
  private placeModelType(dto: CreateEventTypeDto, relevant: EventTypeRecord[]): { resourcePath: string; topic: string } {
    const sibling = relevant.find((r) => r.modelType === dto.model_type);
    const resourcePath = dto.resource_path ?? sibling?.resourcePath ?? `/v0/${dto.model_type}/{id}`;
    const topic = dto.topic ?? sibling?.topic ?? dto.model_type;
    if (sibling && sibling.resourcePath !== resourcePath) {
      throw conflict(
        'model-type-conflict',
        'Model type conflict',
        `the model type '${dto.model_type}' has the resource path ${sibling.resourcePath} (from ${sibling.name}); its types share one`,
        '#/resource_path',
      );
    }
    if (sibling && sibling.topic !== topic) {
      throw conflict(
        'model-type-conflict',
        'Model type conflict',
        `the model type '${dto.model_type}' has the topic '${sibling.topic}' (from ${sibling.name})`,
        '#/topic',
      );
    }
    const root = resourcePath.split('/')[2];
    if (BUILT_IN_RESOURCE_ROOTS.includes(root)) {
      throw invalid('reserved-resource-path', 'Reserved resource path', [
        { pointer: '#/resource_path', detail: `/v0/${root} belongs to the built-in resources` },
      ]);
    }
    const collection = resourceCollection(resourcePath);
    const taken = relevant.find((r) => r.modelType !== dto.model_type && resourceCollection(r.resourcePath) === collection);
    if (taken) {
      throw conflict(
        'resource-path-conflict',
        'Resource path conflict',
        `${collection} serves the model type '${taken.modelType}' (from ${taken.name})`,
        '#/resource_path',
      );
    }
    return { resourcePath, topic };
  }

  /**
   * A version's schemas and example, checked: each schema is a 2020-12 JSON
   * Schema that compiles and is at most `MAX_SCHEMA_BYTES`, and the example is
   * a valid event of the version.
   */
  private checkedVersion(type: string, modelType: string, dto: EventTypeVersionDto): NewEventTypeVersion {
    const dataSchema = dto.data_schema ?? { type: 'object' };
    const errors: EventValidationError[] = [];
    for (const [field, value] of [
      ['model_schema', dto.model_schema],
      ['data_schema', dataSchema],
      ['example', dto.example],
    ] as const) {
      // Bytes, not UTF-16 units: a schema of multi-byte characters is longer than its .length says.
      if (Buffer.byteLength(JSON.stringify(value)) > MAX_SCHEMA_BYTES)
        errors.push({ pointer: `#/${field}`, detail: `must be at most ${MAX_SCHEMA_BYTES} bytes of JSON` });
    }
    if (errors.length === 0) {
      errors.push(...SchemaCompiler.problemsOf(dto.model_schema, '#/model_schema'), ...SchemaCompiler.problemsOf(dataSchema, '#/data_schema'));
    }
    if (errors.length > 0) throw invalid('invalid-schema', 'Invalid schema', errors);

    if (dto.example.model !== null && typeof dto.example.model.id !== 'string') {
      throw invalid('invalid-example', 'Invalid example', [{ pointer: '#/example/model/id', detail: 'is required: a model carries its id (a string)' }]);
    }
    const example = exampleOf(type, modelType, dto.example);
    // The new version alone, as a platform type of a scratch catalogue (its compiled schema is not kept).
    const candidate: EventTypeDefinition = {
      key: `candidate:${type}`,
      type,
      description: '',
      scope: 'platform',
      tenantId: null,
      modelType,
      resourcePath: `/v0/${modelType}/{id}`,
      topic: modelType,
      deprecated: false,
      versions: [{ version: 1, dataSchema, modelSchema: dto.model_schema, example, deprecated: false }],
    };
    let result: ReturnType<EventCatalogue['validate']>;
    try {
      result = new EventCatalogue([candidate]).validate(example);
    } catch (err) {
      // Each schema compiled alone, but not inside the event's schema, where a `$ref` to `#/…` means the event, not the model
      // or data (say, `#/$defs/x` of the schema's own $defs): refused, where it would otherwise be a 500 now and at every publish.
      const at = JSON.stringify(dto.model_schema).includes('"$ref"') ? '#/model_schema' : '#/data_schema';
      throw invalid('invalid-schema', 'Invalid schema', [{ pointer: at, detail: `does not compile inside the event's schema: ${(err as Error).message}` }]);
    }
    if (!result.ok) {
      throw invalid(
        'invalid-example',
        'Invalid example',
        result.errors.map((e) => ({ pointer: e.pointer.replace(/^#/, '#/example'), detail: e.detail })),
      );
    }
    return { dataSchema, modelSchema: dto.model_schema, example: example as unknown as Record<string, unknown> };
  }

  /** The type as written; this process's catalogue takes the write in before answering, so the writer sees it at once. */
  private async viewAfterWrite(saved: EventTypeRecord): Promise<EventTypeView> {
    await this.registry.lookAgain();
    return EventTypeView.of(definitionOf(saved));
  }
}
