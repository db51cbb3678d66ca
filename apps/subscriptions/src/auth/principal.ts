import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiKeyRole } from '@hookhub/persistence';

/** Who is calling: a tenant's API key, or a portal session acting under one (`sessionId`). */
export interface Principal {
  tenantId: string;
  /** The API key: the caller's own, or the one a portal session was made under (what it creates belongs to that key). */
  keyId: string;
  roles: ApiKeyRole[];
  /** Set when the caller is a portal session rather than the key itself. */
  sessionId?: string;
}

export const ROLES_KEY = 'hookhub:roles';

/** The roles of which the caller's key needs at least one; `admin` may do everything. */
export const RequireRoles = (...roles: ApiKeyRole[]) => SetMetadata(ROLES_KEY, roles);

export const NO_PORTAL_SESSIONS_KEY = 'hookhub:no-portal-sessions';

/**
 * Routes a portal session may not use, only the API key itself: a short-lived
 * session must not mint or revoke long-lived credentials.
 */
export const NoPortalSessions = () => SetMetadata(NO_PORTAL_SESSIONS_KEY, true);

export const READER_SESSIONS_MAY_CALL_KEY = 'hookhub:reader-sessions-may-call';

/** A route that changes nothing of the tenant's (signing out) and that a `reader` portal session may call whatever its method. */
export const ReaderSessionsMayCall = () => SetMetadata(READER_SESSIONS_MAY_CALL_KEY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!req.principal) throw new Error('CurrentPrincipal used on a route without ApiKeyGuard');
  return req.principal;
});

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
