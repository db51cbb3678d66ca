import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import { DataSource, EntitySubscriberInterface, RemoveEvent, Repository, UpdateEvent } from 'typeorm';
import { TenantEntity } from '../entities/tenant.entity';
import { keysetPage, Page } from './keyset';

/**
 * How long a pod keeps a tenant's account URL. Another pod's change (or one
 * made in SQL) reaches this pod's envelopes within this time; the cost is one
 * primary-key read per tenant and pod per period.
 */
const ACCOUNT_URL_TTL_MS = 30_000;
/** Tenants whose account URL a pod keeps; the least recently used leave first. */
const ACCOUNT_URL_CACHE_SIZE = 10_000;

/** Days of history a tenant keeps, per kind (null: the deployment's). */
export interface TenantRetention {
  events: number | null;
  deliveries: number | null;
  callbacks: number | null;
}

@Injectable()
export class TenantRepository implements EntitySubscriberInterface<TenantEntity> {
  private readonly accountUrls = new LRUCache<string, string>({ max: ACCOUNT_URL_CACHE_SIZE, ttl: ACCOUNT_URL_TTL_MS });

  constructor(
    @InjectRepository(TenantEntity) private readonly repo: Repository<TenantEntity>,
    @InjectDataSource() dataSource: DataSource,
  ) {
    // Every change this process makes to a tenant through TypeORM reaches afterUpdate/afterRemove.
    dataSource.subscribers.push(this);
  }

  create(input: { name: string; accountUrl?: string }): Promise<TenantEntity> {
    return this.repo.save(this.repo.create({ name: input.name, accountUrl: input.accountUrl ?? '' }));
  }

  findById(id: string): Promise<TenantEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Every tenant, newest first (the platform admin's list); the cursor is the id of the last item of the previous page. */
  list(limit: number, cursor?: string): Promise<Page<TenantEntity>> {
    // Tenants have no owner to scope a cursor to: any tenant's id positions the page.
    return keysetPage(this.repo.createQueryBuilder('t'), { orderedBy: 'created_at', limit, cursor, cursorWithin: { column: 'id', value: cursor ?? '' } });
  }

  /** Sets a tenant's retention overrides (null: the deployment's); false when the tenant does not exist. */
  async setRetention(id: string, days: TenantRetention): Promise<TenantEntity | null> {
    const result = await this.repo.update(
      { id },
      { eventsRetentionDays: days.events, deliveriesRetentionDays: days.deliveries, callbacksRetentionDays: days.callbacks },
    );
    return (result.affected ?? 0) > 0 ? this.findById(id) : null;
  }

  /** Tenants with at least one retention override: the retention run's bounded deletes. */
  withRetentionOverrides(): Promise<TenantEntity[]> {
    return this.repo
      .createQueryBuilder('t')
      .where('t.events_retention_days IS NOT NULL OR t.deliveries_retention_days IS NOT NULL OR t.callbacks_retention_days IS NOT NULL')
      .getMany();
  }

  /**
   * The `account_url` of every envelope the hub builds for this tenant
   * (published events, provider events, `webhook.disabled`, `webhook.test`):
   * one source, so none of them can send an empty one by mistake. Kept per
   * process (bounded, for ACCOUNT_URL_TTL_MS at most, dropped at once when this
   * process changes or deletes the tenant); an unknown tenant is asked again next time.
   */
  async accountUrl(tenantId: string): Promise<string> {
    const known = this.accountUrls.get(tenantId);
    if (known !== undefined) return known;
    const tenant = await this.findById(tenantId);
    if (!tenant) return '';
    this.accountUrls.set(tenantId, tenant.accountUrl);
    return tenant.accountUrl;
  }

  listenTo(): typeof TenantEntity {
    return TenantEntity;
  }

  afterUpdate(event: UpdateEvent<TenantEntity>): void {
    this.forget((event.entity as Partial<TenantEntity> | undefined)?.id ?? event.databaseEntity?.id);
  }

  afterRemove(event: RemoveEvent<TenantEntity>): void {
    this.forget((event.entityId as string | undefined) ?? event.entity?.id ?? event.databaseEntity?.id);
  }

  /** A query-builder update or delete does not say which tenant it touched: then every entry goes. */
  private forget(tenantId: string | undefined): void {
    if (tenantId === undefined) this.accountUrls.clear();
    else this.accountUrls.delete(tenantId);
  }
}
