import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard';
import type { Principal } from './principal';

/**
 * For public routes that show a tenant more when it says who it is: without
 * an Authorization header the request goes on anonymous; with one, the key
 * must be valid (ApiKeyGuard), so a wrong key is refused instead of ignored.
 */
@Injectable()
export class OptionalApiKeyGuard implements CanActivate {
  constructor(private readonly apiKeys: ApiKeyGuard) {}

  canActivate(ctx: ExecutionContext): Promise<boolean> | boolean {
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    if (req.headers.authorization === undefined) return true;
    return this.apiKeys.canActivate(ctx);
  }
}

/** The caller's key on a route with OptionalApiKeyGuard, or undefined for an anonymous request. */
export const OptionalPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => {
  return ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
});
