import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from './sql';

export interface EventTypeVersionRecord {
  version: number;
  dataSchema: Record<string, unknown>;
  modelSchema: Record<string, unknown>;
  example: Record<string, unknown>;
  deprecated: boolean;
  createdAt: Date;
}

export interface EventTypeRecord {
  id: string;
  /** Null for a platform-wide type. */
  tenantId: string | null;
  name: string;
  description: string;
  modelType: string;
  resourcePath: string;
  topic: string;
  deprecated: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Ascending. */
  versions: EventTypeVersionRecord[];
}

export type NewEventType = Pick<EventTypeRecord, 'tenantId' | 'name' | 'description' | 'modelType' | 'resourcePath' | 'topic'>;
export type NewEventTypeVersion = Pick<EventTypeVersionRecord, 'dataSchema' | 'modelSchema' | 'example'>;

interface TypeRow {
  id: string;
  tenant_id: string | null;
  name: string;
  description: string;
  model_type: string;
  resource_path: string;
  topic: string;
  deprecated: boolean;
  created_at: Date;
  updated_at: Date;
  versions: Array<{
    version: number;
    data_schema: Record<string, unknown>;
    model_schema: Record<string, unknown>;
    example: Record<string, unknown>;
    deprecated: boolean;
    created_at: string;
  }>;
}

/** Registry writes are rare: one lock for all of them lets the checks across types (names, paths) read a stable registry. */
const REGISTRY_LOCK = `hashtext('hookhub:event-type-registry')`;

const SELECT_TYPES = `
  SELECT t.id, t.tenant_id, t.name, t.description, t.model_type, t.resource_path, t.topic, t.deprecated, t.created_at, t.updated_at,
         (SELECT json_agg(json_build_object('version', v.version, 'data_schema', v.data_schema, 'model_schema', v.model_schema,
                                            'example', v.example, 'deprecated', v.deprecated, 'created_at', v.created_at) ORDER BY v.version)
            FROM event_type_versions v WHERE v.event_type_id = t.id) AS versions
    FROM event_types t`;

function toRecord(r: TypeRow): EventTypeRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    description: r.description,
    modelType: r.model_type,
    resourcePath: r.resource_path,
    topic: r.topic,
    deprecated: r.deprecated,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    versions: (r.versions ?? []).map((v) => ({
      version: v.version,
      dataSchema: v.data_schema,
      modelSchema: v.model_schema,
      example: v.example,
      deprecated: v.deprecated,
      createdAt: new Date(v.created_at),
    })),
  };
}

/**
 * Event types defined through the API and their schema versions. Every write
 * moves the type to the next registry revision, which is how each process
 * notices that its copy is stale (`revision`).
 */
@Injectable()
export class EventTypeRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The latest revision of the registry ('0' when empty): changes whenever a type or version is written. */
  async revision(): Promise<string> {
    const [row] = (await this.dataSource.query(`SELECT coalesce(max(revision), 0)::text AS revision FROM event_types`)) as Array<{ revision: string }>;
    return row.revision;
  }

  /** Every defined type with its versions. */
  async all(m: EntityManager = this.dataSource.manager): Promise<EventTypeRecord[]> {
    const rows = (await m.query(`${SELECT_TYPES} ORDER BY t.name, t.tenant_id NULLS FIRST`)) as TypeRow[];
    return rows.map(toRecord);
  }

  /** Runs `work` in a transaction that holds the registry's write lock: checks across types see every committed write. */
  locked<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(${REGISTRY_LOCK})`);
      return work(m);
    });
  }

  /** Creates a type with its first version (1). */
  async create(m: EntityManager, type: NewEventType, first: NewEventTypeVersion): Promise<EventTypeRecord> {
    const id = randomUUID();
    await m.query(`INSERT INTO event_types (id, tenant_id, name, description, model_type, resource_path, topic) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      id,
      type.tenantId,
      type.name,
      type.description,
      type.modelType,
      type.resourcePath,
      type.topic,
    ]);
    await this.insertVersion(m, id, 1, first);
    return this.byId(m, id);
  }

  /** Adds the next version of a type. */
  async addVersion(m: EntityManager, typeId: string, next: NewEventTypeVersion): Promise<EventTypeRecord> {
    const [row] = (await m.query(`SELECT coalesce(max(version), 0) + 1 AS next FROM event_type_versions WHERE event_type_id = $1`, [typeId])) as Array<{
      next: number;
    }>;
    await this.insertVersion(m, typeId, row.next, next);
    await this.touch(m, typeId);
    return this.byId(m, typeId);
  }

  /** Changes a type's description or deprecation. */
  async update(m: EntityManager, typeId: string, change: { description?: string; deprecated?: boolean }): Promise<EventTypeRecord> {
    await m.query(`UPDATE event_types SET description = coalesce($2, description), deprecated = coalesce($3, deprecated) WHERE id = $1`, [
      typeId,
      change.description ?? null,
      change.deprecated ?? null,
    ]);
    await this.touch(m, typeId);
    return this.byId(m, typeId);
  }

  /** The type `name` of `tenantId` (null: the platform's), or null. */
  async findOwned(m: EntityManager, tenantId: string | null, name: string): Promise<EventTypeRecord | null> {
    const rows = (await m.query(`${SELECT_TYPES} WHERE t.name = $1 AND t.tenant_id IS NOT DISTINCT FROM $2::uuid`, [name, tenantId])) as TypeRow[];
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Deprecates a version or takes its deprecation back: the type as it is now, or null when it has no such version. */
  async setVersionDeprecated(m: EntityManager, typeId: string, version: number, deprecated: boolean): Promise<EventTypeRecord | null> {
    const rows = returnedRows(
      await m.query(`UPDATE event_type_versions SET deprecated = $3 WHERE event_type_id = $1 AND version = $2 RETURNING version`, [
        typeId,
        version,
        deprecated,
      ]),
    );
    if (rows.length === 0) return null;
    await this.touch(m, typeId);
    return this.byId(m, typeId);
  }

  private async insertVersion(m: EntityManager, typeId: string, version: number, v: NewEventTypeVersion): Promise<void> {
    await m.query(`INSERT INTO event_type_versions (event_type_id, version, data_schema, model_schema, example) VALUES ($1, $2, $3, $4, $5)`, [
      typeId,
      version,
      JSON.stringify(v.dataSchema),
      JSON.stringify(v.modelSchema),
      JSON.stringify(v.example),
    ]);
  }

  private async touch(m: EntityManager, typeId: string): Promise<void> {
    await m.query(`UPDATE event_types SET revision = nextval('event_type_revision'), updated_at = now() WHERE id = $1`, [typeId]);
  }

  private async byId(m: EntityManager, id: string): Promise<EventTypeRecord> {
    const rows = (await m.query(`${SELECT_TYPES} WHERE t.id = $1`, [id])) as TypeRow[];
    return toRecord(rows[0]);
  }
}
