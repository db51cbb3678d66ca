import { Injectable } from '@nestjs/common';
import {
  ApiKeyRepository,
  Page,
  PORTAL_TOKEN_PREFIX,
  PortalSessionEntity,
  PortalSessionRepository,
  PortalSessionRole,
  TenantRepository,
} from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import type { Principal } from '../auth/principal';

/** Default and longest lifetime of a portal session. */
export const PORTAL_SESSION_DEFAULT_MS = 3_600_000;
export const PORTAL_SESSION_MAX_MS = 24 * 3_600_000;
export const PORTAL_SESSION_MIN_MS = 1_000;

/**
 * Portal sessions: short-lived credentials the platform hands a tenant's
 * people (a link into the portal, or an embedded portal), each acting under
 * one of the tenant's API keys with the role `admin` or `reader`.
 *
 * Every request with a session token reads the session and its key from
 * PostgreSQL (one indexed join) instead of a cache: revoking the session, or
 * the key it was made under, is refused by the very next request on every pod
 * without the notify-and-confirm round of ApiKeyCache, and the portal's
 * traffic is a person's clicks, not a publisher's load.
 */
@Injectable()
export class PortalSessionsService {
  constructor(
    private readonly sessions: PortalSessionRepository,
    private readonly keys: ApiKeyRepository,
    private readonly tenants: TenantRepository,
  ) {}

  isSessionToken(token: string): boolean {
    return token.startsWith(PORTAL_TOKEN_PREFIX);
  }

  async create(
    tenantId: string,
    input: { apiKeyId: string; role: PortalSessionRole; expiresInMs?: number },
  ): Promise<{ entity: PortalSessionEntity; token: string }> {
    if (!(await this.tenants.findById(tenantId))) throw Problems.notFound('Tenant');
    const key = await this.keys.findById(input.apiKeyId);
    const refuse = (detail: string) =>
      Problems.unprocessable('unusable-api-key', 'Unusable API key', `api_key_id ${detail}`, [{ pointer: '#/api_key_id', detail }]);
    if (!key || key.tenantId !== tenantId) throw refuse("is not one of the tenant's API keys");
    if (key.revokedAt) throw refuse('names a revoked key');
    // A session never has more rights than its key: an admin session needs an admin key, a reader one a key that may read.
    const allowed = input.role === 'admin' ? key.roles.includes('admin') : key.roles.includes('admin') || key.roles.includes('reader');
    if (!allowed) throw refuse(`names a key without the ${input.role === 'admin' ? 'admin' : 'admin or reader'} role a ${input.role} session needs`);
    const expiresAt = new Date(Date.now() + (input.expiresInMs ?? PORTAL_SESSION_DEFAULT_MS));
    return this.sessions.create({ tenantId, apiKeyId: key.id, role: input.role, expiresAt });
  }

  async list(tenantId: string, limit: number, cursor?: string): Promise<Page<PortalSessionEntity>> {
    if (!(await this.tenants.findById(tenantId))) throw Problems.notFound('Tenant');
    return this.sessions.listForTenant(tenantId, limit, cursor);
  }

  /** Ends a session at once: its next request, on any pod, is refused. */
  async revoke(tenantId: string, id: string): Promise<void> {
    if (!(await this.sessions.revoke(tenantId, id))) throw Problems.notFound('Portal session');
  }

  /** The principal a session token stands for, or a 401 saying why it does not count (unknown, expired, revoked). */
  async authenticate(token: string): Promise<Principal> {
    const s = await this.sessions.findByToken(token);
    if (!s) throw Problems.unauthorized('The portal session is unknown');
    if (s.revokedAt) throw Problems.unauthorized('The portal session was revoked');
    if (s.keyRevokedAt) throw Problems.unauthorized('The portal session ended: the API key it was made under was revoked');
    if (s.expiresAt.getTime() <= Date.now()) throw Problems.unauthorized('The portal session has expired');
    return { tenantId: s.tenantId, keyId: s.apiKeyId, roles: [s.role], sessionId: s.id };
  }

  async describe(sessionId: string, tenantId: string): Promise<PortalSessionEntity | null> {
    return this.sessions.findForTenant(tenantId, sessionId);
  }
}
