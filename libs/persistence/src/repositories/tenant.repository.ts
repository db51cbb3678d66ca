import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { TenantEntity } from '../entities';

@Injectable()
export class TenantRepository {
  private readonly accountUrls = new Map<string, string>();

  constructor(@InjectRepository(TenantEntity) private readonly repo: Repository<TenantEntity>) {}

  create(input: { name: string; accountUrl?: string }): Promise<TenantEntity> {
    return this.repo.save(this.repo.create({ name: input.name, accountUrl: input.accountUrl ?? '' }));
  }

  findById(id: string): Promise<TenantEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /**
   * The `account_url` of every envelope the hub builds for this tenant
   * (published events, provider events, `webhook.disabled`, `webhook.test`):
   * one source, so none of them can send an empty one by mistake. A tenant's
   * account URL is set when it is created and never changes, so each process
   * asks once per tenant; an unknown tenant is asked again next time.
   */
  async accountUrl(tenantId: string): Promise<string> {
    const known = this.accountUrls.get(tenantId);
    if (known !== undefined) return known;
    const tenant = await this.findById(tenantId);
    if (!tenant) return '';
    if (this.accountUrls.size >= 10_000) this.accountUrls.clear();
    this.accountUrls.set(tenantId, tenant.accountUrl);
    return tenant.accountUrl;
  }

}
