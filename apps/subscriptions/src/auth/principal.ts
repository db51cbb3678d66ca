import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiKeyRole } from '@hookhub/persistence';

/** Who is calling: a tenant's API key. */
export interface Principal {
  tenantId: string;
  keyId: string;
  roles: ApiKeyRole[];
}

export const ROLES_KEY = 'hookhub:roles';

/** The roles of which the caller's key needs at least one; `admin` may do everything. */
export const RequireRoles = (...roles: ApiKeyRole[]) => SetMetadata(ROLES_KEY, roles);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!req.principal) throw new Error('CurrentPrincipal used on a route without ApiKeyGuard');
  return req.principal;
});

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
