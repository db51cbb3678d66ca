import { Injectable } from '@nestjs/common';
import { ApiKeyEntity, ApiKeyRepository } from '@hookhub/persistence';

const TTL_MS = 2_000;

/**
 * Why the subscription's key may not send, or null when it may: the one rule,
 * applied at send time here and shown on the subscription by the admin API.
 */
export function senderRefusal(sub: { tenantId: string; createdByKeyId: string | null }, key: ApiKeyEntity | null): string | null {
  const why = senderProblem(sub, key);
  return why && `the subscription's API key ${why}; give the subscription another admin key (PATCH api_key_id)`;
}

function senderProblem(sub: { tenantId: string; createdByKeyId: string | null }, key: ApiKeyEntity | null): string | null {
  if (!sub.createdByKeyId || !key) return 'no longer exists';
  if (key.revokedAt) return 'was revoked';
  if (key.tenantId !== sub.tenantId) return 'belongs to another tenant';
  if (!key.roles.includes('admin')) return 'lacks the admin role';
  return null;
}

/**
 * Re-checks, each time a message is prepared, that the subscription's key (the
 * one that created it, or the one an admin moved it to) is still valid and
 * still allowed to manage the tenant's subscriptions. Lookups are cached
 * briefly: a revocation takes effect within two seconds on every pod.
 */
@Injectable()
export class SenderPermissions {
  private readonly cache = new Map<string, { key: ApiKeyEntity | null; at: number }>();

  constructor(private readonly keys: ApiKeyRepository) {}

  /** `null` when sending is allowed, otherwise the reason it is not. */
  async refusal(sub: { tenantId: string; createdByKeyId: string | null }): Promise<string | null> {
    return senderRefusal(sub, sub.createdByKeyId ? await this.lookup(sub.createdByKeyId) : null);
  }

  private async lookup(id: string): Promise<ApiKeyEntity | null> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.key;
    const key = await this.keys.findById(id);
    this.cache.set(id, { key, at: Date.now() });
    return key;
  }
}
