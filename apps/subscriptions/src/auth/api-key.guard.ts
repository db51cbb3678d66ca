import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyRole } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AdminTokenGuard } from './admin-token.guard';
import { bearerToken, Principal, ROLES_KEY } from './principal';

/** Authenticates `Authorization: Bearer <API key>` and checks the route's roles. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
    private readonly adminToken: AdminTokenGuard,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw Problems.unauthorized('An API key is required: Authorization: Bearer <key>');
    const key = await this.keys.findActive(token);
    if (!key) {
      if (this.adminToken.isAdminToken(token)) {
        throw Problems.unauthorized('This route needs a tenant API key (hh_…); the admin token only manages tenants (/v1/tenants)');
      }
      throw Problems.unauthorized('The API key is unknown or revoked');
    }
    const required = this.reflector.getAllAndOverride<ApiKeyRole[] | undefined>(ROLES_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (required && !key.roles.includes('admin') && !required.some((r) => key.roles.includes(r))) {
      throw Problems.forbidden(`This action needs one of the roles: ${required.join(', ')}`);
    }
    req.principal = { tenantId: key.tenantId, keyId: key.id, roles: key.roles };
    return true;
  }
}
