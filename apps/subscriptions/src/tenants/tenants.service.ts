import { Injectable } from '@nestjs/common';
import { ApiKeyEntity, ApiKeyRole, Page, TenantEntity, TenantRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import { ApiKeysService } from '../api-keys/api-keys.service';

/** Bootstrap: tenants and their first keys. */
@Injectable()
export class TenantsService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly keys: ApiKeysService,
  ) {}

  create(input: { name: string; accountUrl?: string }): Promise<TenantEntity> {
    return this.tenants.create(input);
  }

  list(limit: number, cursor?: string): Promise<Page<TenantEntity>> {
    return this.tenants.list(limit, cursor);
  }

  async createKey(tenantId: string, input: { name: string; roles: ApiKeyRole[] }): Promise<{ entity: ApiKeyEntity; key: string }> {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw Problems.notFound('Tenant');
    return this.keys.create(tenantId, input);
  }
}
