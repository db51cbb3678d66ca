import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { ApiKeyEntity, ApiKeyRole } from '../entities/api-key.entity';
import { keysetPage, Page } from './keyset';

const KEY_PREFIX = 'hh_';

/** API keys carry 256 random bits, so a fast hash is as safe as a slow one and keeps lookups cheap. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

@Injectable()
export class ApiKeyRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly repo: Repository<ApiKeyEntity>) {}

  /** Creates a key and returns its plaintext: the only time it exists outside the caller's hands. */
  async create(input: { tenantId: string; name: string; roles: ApiKeyRole[] }): Promise<{ entity: ApiKeyEntity; key: string }> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const entity = await this.repo.save(
      this.repo.create({ tenantId: input.tenantId, name: input.name, roles: input.roles, keyHash: hashApiKey(key), revokedAt: null }),
    );
    return { entity, key };
  }

  findActiveByKey(key: string): Promise<ApiKeyEntity | null> {
    if (!key.startsWith(KEY_PREFIX)) return Promise.resolve(null);
    return this.repo.findOneBy({ keyHash: hashApiKey(key), revokedAt: IsNull() });
  }

  findById(id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Newest first, revoked keys included; the cursor is the id of the last item of the previous page. */
  listForTenant(tenantId: string, limit: number, cursor?: string): Promise<Page<ApiKeyEntity>> {
    const qb = this.repo.createQueryBuilder('k').where('k.tenant_id = :tenantId', { tenantId });
    return keysetPage(qb, { orderedBy: 'created_at', limit, cursor, cursorWithin: { column: 'tenant_id', value: tenantId } });
  }

  async revoke(tenantId: string, id: string): Promise<boolean> {
    const result = await this.repo.update({ id, tenantId, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}
