import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiKeyEntity, ApiKeyRepository, ApiKeyRole, Page } from '@hookhub/persistence';
import { BaseConfig, Problems } from '@hookhub/platform';
import { ActiveKey, ApiKeyCache } from './api-key-cache';

/** A tenant's API keys: issued once in clear, stored hashed, revoked at once (on every pod: see ApiKeyCache). */
@Injectable()
export class ApiKeysService implements OnModuleInit, OnApplicationShutdown {
  private readonly cache: ApiKeyCache;

  constructor(
    private readonly keys: ApiKeyRepository,
    config: ConfigService<BaseConfig, true>,
  ) {
    this.cache = new ApiKeyCache(config.get('DATABASE_URL', { infer: true }), keys);
  }

  onModuleInit(): void {
    // Not awaited: until its listener is connected the cache is out of use and keys are read from PostgreSQL.
    this.cache.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cache.close();
  }

  create(tenantId: string, input: { name: string; roles: ApiKeyRole[] }): Promise<{ entity: ApiKeyEntity; key: string }> {
    return this.keys.create({ tenantId, name: input.name, roles: input.roles });
  }

  list(tenantId: string, limit: number, cursor?: string): Promise<Page<ApiKeyEntity>> {
    return this.keys.listForTenant(tenantId, limit, cursor);
  }

  /** Returns once no pod of this deployment accepts the key any more. */
  async revoke(tenantId: string, id: string): Promise<void> {
    if (!(await this.cache.revoke(tenantId, id))) throw Problems.notFound('API key');
  }

  /** The key a bearer token names, if it exists and is not revoked. */
  findActive(token: string): Promise<ActiveKey | null> {
    return this.cache.findActive(token);
  }
}
