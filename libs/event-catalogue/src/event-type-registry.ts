import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { canonicalEnvelope, EventCatalogue, EventEnvelope, EventTypeDefinition, EventValidationResult } from '@hookhub/contracts';
import { EventTypeRecord, EventTypeRepository } from '@hookhub/persistence';
import type { BaseConfig } from '@hookhub/platform';

/** A type defined through the API, in the catalogue's shape (the same as a built-in type's). */
export function definitionOf(r: EventTypeRecord): EventTypeDefinition {
  return {
    key: `defined:${r.id}`,
    type: r.name,
    description: r.description,
    scope: r.tenantId === null ? 'platform' : 'tenant',
    tenantId: r.tenantId,
    modelType: r.modelType,
    resourcePath: r.resourcePath,
    topic: r.topic,
    deprecated: r.deprecated,
    versions: r.versions.map((v) => ({
      version: v.version,
      dataSchema: v.dataSchema,
      modelSchema: v.modelSchema,
      example: canonicalEnvelope(v.example as unknown as EventEnvelope),
      deprecated: v.deprecated,
      createdAt: v.createdAt.toISOString(),
    })),
  };
}

/**
 * This process's copy of the event catalogue: the built-in types and every
 * type defined through the API. It is refreshed when the registry's revision
 * moves (checked every `EVENT_TYPES_REFRESH_MS`), and at once when an event
 * names a type or version this copy does not have: another pod may have just
 * created it, and its creation was answered only after it was committed.
 */
@Injectable()
export class EventTypeRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventTypeRegistry.name);
  private catalogue = new EventCatalogue();
  private revision = '';
  private loading: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly types: EventTypeRepository,
    @Inject(ConfigService) private readonly config: ConfigService<BaseConfig, true>,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(
      () => {
        this.refresh().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'refreshing the event types failed; will try again'));
      },
      this.config.get('EVENT_TYPES_REFRESH_MS', { infer: true }),
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The catalogue as this process knows it now. */
  current(): EventCatalogue {
    return this.catalogue;
  }

  /**
   * `read` of this process's catalogue; when `missed` says it found something unknown here, read again
   * after a fresh look at the registry (another pod may have just defined it).
   */
  private async readFresh<T>(read: (catalogue: EventCatalogue) => T, missed: (result: T) => boolean): Promise<T> {
    const result = read(this.catalogue);
    if (!missed(result) || !(await this.lookAgain())) return result;
    return read(this.catalogue);
  }

  /** `EventCatalogue.validate`, looking the registry up again before calling a type or version unknown. */
  validate(candidate: unknown, schemaVersion?: number): Promise<EventValidationResult> {
    return this.readFresh(
      (c) => c.validate(candidate, schemaVersion),
      (r) => !r.ok && r.reason !== 'invalid',
    );
  }

  /** The type as `tenantId` sees it, looking the registry up again before calling it unknown. */
  find(tenantId: string | null, type: string): Promise<EventTypeDefinition | undefined> {
    return this.readFresh(
      (c) => c.find(tenantId, type),
      (def) => def === undefined,
    );
  }

  /** The patterns that name nothing `tenantId` sees, looking the registry up again before calling any unknown. */
  unknownPatterns(tenantId: string, patterns: readonly string[]): Promise<string[]> {
    return this.readFresh(
      (c) => patterns.filter((p) => !c.isKnownPattern(tenantId, p)),
      (unknown) => unknown.length > 0,
    );
  }

  /** `EventCatalogue.definedResourceAt`, looking the registry up again before answering that no type declares `path`. */
  definedResourceAt(tenantId: string, path: string): Promise<{ definition: EventTypeDefinition; id: string } | undefined> {
    return this.readFresh(
      (c) => c.definedResourceAt(tenantId, path),
      (found) => found === undefined,
    );
  }

  /**
   * A look at the registry that begins after this call: one already under way may have read the revision
   * before the type the caller misses (or has just written) was committed. True when the catalogue changed.
   */
  async lookAgain(): Promise<boolean> {
    const earlier = this.loading ? await this.loading : false;
    return (await this.refresh()) || earlier;
  }

  /** Reloads when the registry changed since the last load; true when it did. Concurrent callers share one look. */
  private refresh(): Promise<boolean> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<boolean> {
    // Writers hold one lock until they commit, so revisions become visible in order: read the revision first,
    // then the types; a write landing in between shows up as a newer revision at the next look.
    const revision = await this.types.revision();
    if (revision === this.revision) return false;
    const records = await this.types.all();
    this.catalogue = this.catalogue.with(records.map(definitionOf));
    this.revision = revision;
    return true;
  }
}
