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

  /** `EventCatalogue.validate`, looking the registry up again before calling a type or version unknown. */
  async validate(candidate: unknown, schemaVersion?: number): Promise<EventValidationResult> {
    const result = this.catalogue.validate(candidate, schemaVersion);
    if (result.ok || result.reason === 'invalid' || !(await this.lookAgain())) return result;
    return this.catalogue.validate(candidate, schemaVersion);
  }

  /** The type as `tenantId` sees it, looking the registry up again before calling it unknown. */
  async find(tenantId: string | null, type: string): Promise<EventTypeDefinition | undefined> {
    const found = this.catalogue.find(tenantId, type);
    if (found || !(await this.lookAgain())) return found;
    return this.catalogue.find(tenantId, type);
  }

  /**
   * A look at the registry that begins after this call: one already under way may have read the revision
   * before the type the caller misses was committed. True when the catalogue changed.
   */
  private async lookAgain(): Promise<boolean> {
    const earlier = this.loading ? await this.loading : false;
    return (await this.refresh()) || earlier;
  }

  /** Reloads when the registry changed since the last load; true when it did. Concurrent callers share one look. */
  refresh(): Promise<boolean> {
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
