import { Injectable } from '@nestjs/common';
import { ApiKeyEntity, ApiKeyRepository } from '@hookhub/persistence';

const TTL_MS = 2_000;

/**
 * Re-checks, each time a message is prepared, that the key that created the
 * subscription is still valid and still allowed to manage the tenant's
 * subscriptions. Lookups are cached briefly: a revocation takes effect within
 * two seconds on every pod.
 */
@Injectable()
export class SenderPermissions {
  private readonly cache = new Map<string, { key: ApiKeyEntity | null; at: number }>();

  constructor(private readonly keys: ApiKeyRepository) {}

  /** `null` when sending is allowed, otherwise the reason it is not. */
  async refusal(sub: { tenantId: string; createdByKeyId: string | null }): Promise<string | null> {
    if (!sub.createdByKeyId) return 'the API key that created this subscription no longer exists';
    const key = await this.lookup(sub.createdByKeyId);
    if (!key) return 'the API key that created this subscription no longer exists';
    if (key.revokedAt) return 'the API key that created this subscription was revoked';
    if (key.tenantId !== sub.tenantId) return 'the API key that created this subscription belongs to another tenant';
    if (!key.roles.includes('admin')) return 'the API key that created this subscription lost the admin role';
    return null;
  }

  private async lookup(id: string): Promise<ApiKeyEntity | null> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.key;
    const key = await this.keys.findById(id);
    this.cache.set(id, { key, at: Date.now() });
    return key;
  }
}
