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
  /** NOTIFY channel of revoked keys; the payload is the key's id. */
  static readonly REVOKED_CHANNEL = 'hookhub_api_key_revoked';
  /** NOTIFY channel on which a listener confirms it forgot a revoked key; the payload is `<listener name> <key id>`. */
  static readonly FORGOTTEN_CHANNEL = 'hookhub_api_key_forgotten';

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

  /**
   * Revokes a key, and in the same statement tells every process listening on
   * REVOKED_CHANNEL (the API pods' key caches) which key it was: PostgreSQL sends
   * the notification at commit, so a listener never hears of a revocation that
   * did not happen, nor misses one that did while it was listening.
   */
  async revoke(tenantId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.repo.query(
      `WITH revoked AS (
         UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING id
       )
       SELECT pg_notify($3, id::text) FROM revoked`,
      [id, tenantId, ApiKeyRepository.REVOKED_CHANNEL],
    );
    return rows.length > 0;
  }

  /**
   * The `application_name` of every open connection to this database that
   * starts with `prefix`: the API pods' key-cache listeners, each named after
   * its pod. A pod whose connection is gone (crashed, cut off) is not listed.
   */
  async connectionsNamed(prefix: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.repo.query(
      `SELECT application_name AS name FROM pg_stat_activity WHERE datname = current_database() AND starts_with(application_name, $1)`,
      [prefix],
    );
    return rows.map((r) => r.name);
  }
}
