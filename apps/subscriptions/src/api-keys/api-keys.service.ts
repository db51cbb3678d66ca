import { Injectable } from '@nestjs/common';
import { ApiKeyEntity, ApiKeyRepository, ApiKeyRole, Page } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';

/** A tenant's API keys: issued once in clear, stored hashed, revoked at once. */
@Injectable()
export class ApiKeysService {
  constructor(private readonly keys: ApiKeyRepository) {}

  create(tenantId: string, input: { name: string; roles: ApiKeyRole[] }): Promise<{ entity: ApiKeyEntity; key: string }> {
    return this.keys.create({ tenantId, name: input.name, roles: input.roles });
  }

  list(tenantId: string, limit: number, cursor?: string): Promise<Page<ApiKeyEntity>> {
    return this.keys.listForTenant(tenantId, limit, cursor);
  }

  async revoke(tenantId: string, id: string): Promise<void> {
    if (!(await this.keys.revoke(tenantId, id))) throw Problems.notFound('API key');
  }

  /** The key a bearer token names, if it exists and is not revoked. */
  findActive(token: string): Promise<ApiKeyEntity | null> {
    return this.keys.findActiveByKey(token);
  }
}
