import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EVENT_TYPES } from '@hookhub/contracts';
import { DEFAULT_RETRY_POLICY_MS, Page, SubscriptionEntity, SubscriptionRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import { generateSecret, isValidSecret, SecretVault } from '@hookhub/signing';
import { checkWebhookUrl } from '@hookhub/url-safety';
import type { Principal } from '../auth/principal';
import type { SubscriptionsConfig } from '../subscriptions.config';
import { CreateSubscriptionDto } from './subscription.dto';

const GROUPS = new Set(EVENT_TYPES.map((t) => t.split('.')[0]));

@Injectable()
export class SubscriptionsService {
  private readonly allowInsecureTargets: boolean;

  constructor(
    private readonly repo: SubscriptionRepository,
    private readonly vault: SecretVault,
    config: ConfigService<SubscriptionsConfig, true>,
  ) {
    this.allowInsecureTargets = config.get('ALLOW_INSECURE_WEBHOOK_TARGETS', { infer: true });
  }

  async create(principal: Principal, dto: CreateSubscriptionDto): Promise<{ subscription: SubscriptionEntity; secret: string }> {
    const url = checkWebhookUrl(dto.url, { allowInsecureTargets: this.allowInsecureTargets });
    if (!url.ok) {
      throw Problems.unprocessable('unsafe-url', 'Unsafe webhook URL', `url ${url.reason}`, [{ pointer: '#/url', detail: url.reason }]);
    }
    const unknown = dto.event_types.filter((p) => !this.isKnownPattern(p));
    if (unknown.length > 0) {
      throw Problems.unprocessable(
        'unknown-event-type',
        'Unknown event type',
        `unknown event types: ${unknown.join(', ')}; see GET /v1/event-types`,
        unknown.map((u) => ({ pointer: `#/event_types/${dto.event_types.indexOf(u)}`, detail: `unknown event type '${u}'` })),
      );
    }
    const scheme = dto.signature_scheme ?? 'sha256';
    if (dto.secret !== undefined && !isValidSecret(scheme, dto.secret)) {
      const detail = scheme === 'standard-webhooks' ? 'must be whsec_ followed by at least 24 base64 bytes' : 'must be 16 to 256 characters';
      throw Problems.unprocessable('invalid-secret', 'Invalid secret', `secret ${detail}`, [{ pointer: '#/secret', detail }]);
    }
    const secret = dto.secret ?? generateSecret(scheme);
    const subscription = await this.repo.create({
      tenantId: principal.tenantId,
      url: url.url.toString(),
      eventTypes: dto.event_types,
      modelIds: dto.model_ids?.length ? dto.model_ids : null,
      format: dto.format ?? 'full',
      signatureScheme: scheme,
      secretCiphertext: this.vault.encrypt(secret),
      headers: dto.headers ?? {},
      retryPolicyMs: dto.retry_policy_ms ?? DEFAULT_RETRY_POLICY_MS,
      verifyToken: dto.verify_token ?? null,
      state: dto.verify_token ? 'pending_verification' : 'active',
      stateReason: dto.verify_token ? 'waiting for the endpoint to answer the verification challenge' : null,
      description: dto.description ?? null,
      createdByKeyId: principal.keyId,
    });
    return { subscription, secret };
  }

  async get(principal: Principal, id: string): Promise<SubscriptionEntity> {
    const sub = await this.repo.findForTenant(principal.tenantId, id);
    if (!sub) throw Problems.notFound('Subscription');
    return sub;
  }

  list(principal: Principal, limit: number, cursor?: string): Promise<Page<SubscriptionEntity>> {
    return this.repo.listForTenant(principal.tenantId, limit, cursor);
  }

  /** Resumes delivery: new events flow again and the failure count starts from zero. */
  async enable(principal: Principal, id: string): Promise<SubscriptionEntity> {
    const sub = await this.get(principal, id);
    const pending = sub.verifyToken !== null && sub.state === 'pending_verification';
    const enabled = await this.repo.enable(principal.tenantId, id, pending ? 'pending_verification' : 'active', pending ? sub.stateReason : null);
    if (!enabled) throw Problems.notFound('Subscription');
    return enabled;
  }

  async disable(principal: Principal, id: string): Promise<SubscriptionEntity> {
    const disabled = await this.repo.disable(principal.tenantId, id, `disabled through the API by key ${principal.keyId}`);
    if (!disabled) throw Problems.notFound('Subscription');
    return disabled;
  }

  async remove(principal: Principal, id: string): Promise<void> {
    if (!(await this.repo.deleteForTenant(principal.tenantId, id))) throw Problems.notFound('Subscription');
  }

  private isKnownPattern(pattern: string): boolean {
    if (pattern === '*') return true;
    if (pattern.endsWith('.*')) return GROUPS.has(pattern.slice(0, -2));
    return EVENT_TYPES.includes(pattern);
  }
}
