import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PortalSessionEntity, PortalSessionRole } from '../entities/portal-session.entity';
import { keysetPage, Page } from './keyset';

/** Portal session tokens start with this, so a guard tells them from API keys (`hh_`) without a lookup. */
export const PORTAL_TOKEN_PREFIX = 'hhp_';

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A session as a request sees it: its own state and its API key's, read together. */
export interface PortalSessionLookup {
  id: string;
  tenantId: string;
  apiKeyId: string;
  role: PortalSessionRole;
  expiresAt: Date;
  revokedAt: Date | null;
  keyRevokedAt: Date | null;
}

@Injectable()
export class PortalSessionRepository {
  constructor(@InjectRepository(PortalSessionEntity) private readonly repo: Repository<PortalSessionEntity>) {}

  /** Creates a session and returns its token: the only time the token exists outside the caller's hands. */
  async create(input: {
    tenantId: string;
    apiKeyId: string;
    role: PortalSessionRole;
    expiresAt: Date;
  }): Promise<{ entity: PortalSessionEntity; token: string }> {
    // 256 random bits: a fast hash is as safe as a slow one here, as for API keys.
    const token = PORTAL_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const entity = await this.repo.save(this.repo.create({ ...input, tokenHash: hashToken(token), revokedAt: null }));
    return { entity, token };
  }

  /**
   * The session a token names with its key's revocation, read in one statement
   * on every request (no cache): revoking the session or its key is seen by the
   * next request on every pod, with nothing to notify.
   */
  async findByToken(token: string): Promise<PortalSessionLookup | null> {
    if (!token.startsWith(PORTAL_TOKEN_PREFIX)) return null;
    const rows: Array<{
      id: string;
      tenant_id: string;
      api_key_id: string;
      role: PortalSessionRole;
      expires_at: Date;
      revoked_at: Date | null;
      key_revoked_at: Date | null;
    }> = await this.repo.query(
      `SELECT s.id, s.tenant_id, s.api_key_id, s.role, s.expires_at, s.revoked_at, k.revoked_at AS key_revoked_at
         FROM portal_sessions s JOIN api_keys k ON k.id = s.api_key_id
        WHERE s.token_hash = $1`,
      [hashToken(token)],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      id: r.id,
      tenantId: r.tenant_id,
      apiKeyId: r.api_key_id,
      role: r.role,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
      keyRevokedAt: r.key_revoked_at,
    };
  }

  findForTenant(tenantId: string, id: string): Promise<PortalSessionEntity | null> {
    return this.repo.findOneBy({ tenantId, id });
  }

  /** Newest first, expired and revoked ones included; the cursor is the id of the last item of the previous page. */
  listForTenant(tenantId: string, limit: number, cursor?: string): Promise<Page<PortalSessionEntity>> {
    const qb = this.repo.createQueryBuilder('s').where('s.tenant_id = :tenantId', { tenantId });
    return keysetPage(qb, { orderedBy: 'created_at', limit, cursor, cursorWithin: { column: 'tenant_id', value: tenantId } });
  }

  /** Revokes a session of the tenant; false when there is no such unrevoked session. */
  async revoke(tenantId: string, id: string): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND tenant_id = :tenantId AND revoked_at IS NULL', { id, tenantId })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
