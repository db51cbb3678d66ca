import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Problems } from '@hookhub/platform';
import type { SubscriptionsConfig } from '../subscriptions.config';
import { bearerToken } from './principal';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The bootstrap admin token from configuration, compared in constant time. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(config: ConfigService<SubscriptionsConfig, true>) {
    this.expected = digest(config.get('ADMIN_TOKEN', { infer: true }));
  }

  /** Whether `token` is the admin token: tenant routes use it to say which credential they need instead. */
  isAdminToken(token: string): boolean {
    return timingSafeEqual(digest(token), this.expected);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const token = bearerToken(req.headers.authorization);
    if (!token || !this.isAdminToken(token)) {
      throw Problems.unauthorized('The admin token is missing or wrong');
    }
    return true;
  }
}
