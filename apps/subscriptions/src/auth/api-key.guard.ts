import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyRole } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { PortalSessionsService } from '../portal-sessions/portal-sessions.service';
import { AdminTokenGuard } from './admin-token.guard';
import { bearerToken, NO_PORTAL_SESSIONS_KEY, Principal, READER_SESSIONS_MAY_CALL_KEY, ROLES_KEY } from './principal';

/** Methods a `reader` portal session may use: it may look, never change. */
const READ_METHODS = new Set(['GET', 'HEAD']);

/** Authenticates `Authorization: Bearer <API key or portal session token>` and checks the route's roles. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
    private readonly adminToken: AdminTokenGuard,
    private readonly sessions: PortalSessionsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<{ method: string; headers: Record<string, string | undefined>; principal?: Principal }>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw Problems.unauthorized('An API key is required: Authorization: Bearer <key>');
    if (this.sessions.isSessionToken(token)) {
      const principal = await this.sessions.authenticate(token);
      if (this.reflector.getAllAndOverride<boolean | undefined>(NO_PORTAL_SESSIONS_KEY, [ctx.getHandler(), ctx.getClass()])) {
        throw Problems.forbidden('A portal session cannot manage API keys; use an API key with the admin role');
      }
      const mayChange = this.reflector.getAllAndOverride<boolean | undefined>(READER_SESSIONS_MAY_CALL_KEY, [ctx.getHandler(), ctx.getClass()]);
      if (!principal.roles.includes('admin') && !READ_METHODS.has(req.method) && !mayChange) throw Problems.forbidden('A reader portal session may only read');
      this.checkRoles(ctx, principal.roles);
      req.principal = principal;
      return true;
    }
    const key = await this.keys.findActive(token);
    if (!key) {
      if (this.adminToken.isAdminToken(token)) {
        throw Problems.unauthorized('This route needs a tenant API key (hh_…); the admin token only manages tenants (/v1/tenants)');
      }
      throw Problems.unauthorized('The API key is unknown or revoked');
    }
    this.checkRoles(ctx, key.roles);
    req.principal = { tenantId: key.tenantId, keyId: key.id, roles: key.roles };
    return true;
  }

  private checkRoles(ctx: ExecutionContext, roles: ApiKeyRole[]): void {
    const required = this.reflector.getAllAndOverride<ApiKeyRole[] | undefined>(ROLES_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (required && !roles.includes('admin') && !required.some((r) => roles.includes(r))) {
      throw Problems.forbidden(`This action needs one of the roles: ${required.join(', ')}`);
    }
  }
}
