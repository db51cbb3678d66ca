import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EndpointVerifier, RedeliveryService, senderRefusal, TestPing, VerificationResult } from '@hookhub/delivery';
import { subscriptionFilterErrors } from '@hookhub/contracts';
import { EventTypeRegistry } from '@hookhub/event-catalogue';
import { ApiKeyRepository, DEFAULT_RETRY_POLICY_MS, Page, SubscriptionEntity, SubscriptionRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import { generateSecret, isValidSecret, SecretVault } from '@hookhub/signing';
import { checkWebhookDestination } from '@hookhub/url-safety';
import type { SendResult } from '@hookhub/delivery';
import type { Principal } from '../auth/principal';
import type { SubscriptionsConfig } from '../subscriptions.config';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateSubscriptionDto, RateLimitDto, RotateSecretDto, SubscriptionView, SubscriptionViewState, UpdateSubscriptionDto } from './subscription.dto';

const PENDING_REASON = 'waiting for the endpoint to answer the verification challenge';

@Injectable()
export class SubscriptionsService {
  private readonly logger = new Logger(SubscriptionsService.name);
  private readonly allowInsecureTargets: boolean;
  private readonly rotationOverlapMs: number;

  constructor(
    private readonly repo: SubscriptionRepository,
    private readonly vault: SecretVault,
    private readonly verifier: EndpointVerifier,
    private readonly pinger: TestPing,
    private readonly redelivery: RedeliveryService,
    private readonly keys: ApiKeyRepository,
    private readonly registry: EventTypeRegistry,
    config: ConfigService<SubscriptionsConfig, true>,
  ) {
    this.allowInsecureTargets = config.get('ALLOW_INSECURE_WEBHOOK_TARGETS', { infer: true });
    this.rotationOverlapMs = config.get('SECRET_ROTATION_OVERLAP_MS', { infer: true });
  }

  async create(principal: Principal, dto: CreateSubscriptionDto): Promise<{ subscription: SubscriptionEntity; secret: string }> {
    const url = await this.safeUrl(dto.url);
    await this.checkEventTypes(principal, dto.event_types);
    await this.checkSchemaVersions(principal, dto.schema_versions);
    const filter = this.checkFilter(dto.filter);
    const rateLimit = checkRateLimit(dto.rate_limit);
    const scheme = dto.signature_scheme ?? 'sha256';
    const secret = this.acceptSecret(scheme, dto.secret);
    const subscription = await this.repo.create({
      tenantId: principal.tenantId,
      url,
      eventTypes: dto.event_types,
      modelIds: dto.model_ids?.length ? dto.model_ids : null,
      schemaVersions: dto.schema_versions ?? null,
      filter,
      ratePerSecond: rateLimit?.perSecond ?? null,
      rateBurst: rateLimit?.burst ?? null,
      format: dto.format ?? 'full',
      signatureScheme: scheme,
      ordering: dto.ordering ?? 'default',
      secretCiphertext: this.vault.encrypt(secret),
      headers: dto.headers ?? {},
      retryPolicyMs: dto.retry_policy_ms ?? DEFAULT_RETRY_POLICY_MS,
      disableAfterFailingMs: dto.disable_after_failing_ms ?? null,
      verifyToken: dto.verify_token ?? null,
      state: dto.verify_token ? 'pending_verification' : 'active',
      stateReason: dto.verify_token ? PENDING_REASON : null,
      description: dto.description ?? null,
      createdByKeyId: principal.keyId,
    });
    // The handshake may take up to 20 s: the caller gets the pending subscription at once.
    if (subscription.verifyToken) void this.runVerification(subscription).catch((err: unknown) => this.logger.warn({ err }, 'verification failed'));
    return { subscription, secret };
  }

  async update(principal: Principal, id: string, dto: UpdateSubscriptionDto): Promise<SubscriptionEntity> {
    // The partial DTO lets every field be null (which clears the optional ones); these cannot be cleared.
    const nulls = (['url', 'event_types', 'format', 'ordering', 'api_key_id'] as const).filter((k) => dto[k] === null);
    if (nulls.length > 0) {
      const errors = nulls.map((k) => ({ pointer: `#/${k}`, detail: `${k} cannot be null` }));
      throw Problems.validation(errors.map((e) => e.detail).join('; '), errors);
    }
    const sub = await this.get(principal, id);
    let reverify = false;
    if (dto.url !== undefined && dto.url !== sub.url) {
      sub.url = await this.safeUrl(dto.url);
      reverify = true;
    }
    if (dto.event_types !== undefined) {
      await this.checkEventTypes(principal, dto.event_types);
      sub.eventTypes = dto.event_types;
    }
    if (dto.schema_versions !== undefined) {
      await this.checkSchemaVersions(principal, dto.schema_versions);
      sub.schemaVersions = dto.schema_versions;
    }
    if (dto.model_ids !== undefined) sub.modelIds = dto.model_ids?.length ? dto.model_ids : null;
    // The new filter applies to the events fanned out after this save: the dispatchers compile it again when they see the row's new version.
    if (dto.filter !== undefined) sub.filter = this.checkFilter(dto.filter);
    // The dispatchers read the limit under the budget's lock at every lease: the new one applies within a quarter of a second.
    if (dto.rate_limit !== undefined) {
      const rateLimit = checkRateLimit(dto.rate_limit);
      sub.ratePerSecond = rateLimit?.perSecond ?? null;
      sub.rateBurst = rateLimit?.burst ?? null;
    }
    if (dto.format !== undefined) sub.format = dto.format;
    if (dto.ordering !== undefined) sub.ordering = dto.ordering;
    if (dto.headers !== undefined) sub.headers = dto.headers ?? {};
    if (dto.retry_policy_ms !== undefined) sub.retryPolicyMs = dto.retry_policy_ms ?? DEFAULT_RETRY_POLICY_MS;
    if (dto.disable_after_failing_ms !== undefined) sub.disableAfterFailingMs = dto.disable_after_failing_ms ?? null;
    if (dto.description !== undefined) sub.description = dto.description ?? null;
    if (dto.api_key_id !== undefined && dto.api_key_id !== null) sub.createdByKeyId = await this.senderKey(principal, dto.api_key_id);
    if (dto.verify_token !== undefined && dto.verify_token !== sub.verifyToken) {
      sub.verifyToken = dto.verify_token ?? null;
      reverify = true;
    }
    if (reverify && sub.verifyToken && sub.state !== 'disabled') {
      sub.state = 'pending_verification';
      sub.stateReason = PENDING_REASON;
    }
    const saved = await this.repo.save(sub);
    if (reverify && saved.state === 'pending_verification') void this.runVerification(saved).catch(() => undefined);
    return saved;
  }

  async get(principal: Principal, id: string): Promise<SubscriptionEntity> {
    const sub = await this.repo.findForTenant(principal.tenantId, id);
    if (!sub) throw Problems.notFound('Subscription');
    return sub;
  }

  list(
    principal: Principal,
    limit: number,
    cursor?: string,
    filter: { state?: SubscriptionViewState; eventType?: string } = {},
  ): Promise<Page<SubscriptionEntity>> {
    return this.repo.listForTenant(principal.tenantId, limit, cursor, filter);
  }

  /** The subscription as the API shows it: `blocked` when its key may no longer send. */
  async view(sub: SubscriptionEntity): Promise<SubscriptionView> {
    return (await this.views([sub]))[0];
  }

  /** Views of a page of subscriptions: each distinct key is read once, fresh (a revocation shows at once). */
  async views(subs: SubscriptionEntity[]): Promise<SubscriptionView[]> {
    const refusals = await this.senderRefusals(subs);
    return subs.map((s) => SubscriptionView.of(s, refusals.get(s.id) ?? null));
  }

  /** Why each subscription's key may not send (absent: it may), by subscription id. */
  private async senderRefusals(subs: SubscriptionEntity[]): Promise<Map<string, string | null>> {
    const ids = [...new Set(subs.map((s) => s.createdByKeyId).filter((id): id is string => id !== null))];
    const keys = new Map(await Promise.all(ids.map(async (id) => [id, await this.keys.findById(id)] as const)));
    return new Map(subs.map((s) => [s.id, senderRefusal(s, s.createdByKeyId ? (keys.get(s.createdByKeyId) ?? null) : null)]));
  }

  /** The key a subscription is moved to: the tenant's, not revoked, with the admin role deliveries need. */
  private async senderKey(principal: Principal, keyId: string): Promise<string> {
    const key = await this.keys.findById(keyId);
    const refuse = (detail: string) =>
      Problems.unprocessable('unusable-api-key', 'Unusable API key', `api_key_id ${detail}`, [{ pointer: '#/api_key_id', detail }]);
    if (!key || key.tenantId !== principal.tenantId) throw refuse("is not one of this tenant's API keys");
    if (key.revokedAt) throw refuse('names a revoked API key');
    if (!key.roles.includes('admin')) throw refuse('names a key without the admin role, which sending needs');
    return key.id;
  }

  async remove(principal: Principal, id: string): Promise<void> {
    if (!(await this.repo.deleteForTenant(principal.tenantId, id))) throw Problems.notFound('Subscription');
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

  /** A new secret; the old one keeps signing alongside it until the overlap ends. */
  async rotateSecret(principal: Principal, id: string, dto: RotateSecretDto): Promise<{ secret: string; previousExpiresAt: Date }> {
    const sub = await this.get(principal, id);
    const secret = this.acceptSecret(sub.signatureScheme, dto.secret);
    const previousExpiresAt = new Date(Date.now() + (dto.overlap_ms ?? this.rotationOverlapMs));
    sub.previousSecretCiphertext = sub.secretCiphertext;
    sub.previousSecretExpiresAt = previousExpiresAt;
    sub.secretCiphertext = this.vault.encrypt(secret);
    await this.repo.save(sub);
    return { secret, previousExpiresAt };
  }

  /** Runs the handshake now and activates the subscription when it succeeds. */
  async verify(principal: Principal, id: string): Promise<{ result: VerificationResult; subscription: SubscriptionEntity }> {
    const sub = await this.get(principal, id);
    if (!sub.verifyToken) throw Problems.conflict('This subscription has no verify token to check');
    const result = await this.runVerification(sub);
    return { result, subscription: await this.get(principal, id) };
  }

  async ping(principal: Principal, id: string): Promise<SendResult> {
    return this.pinger.ping(await this.get(principal, id));
  }

  async replay(principal: Principal, id: string, since: Date, onlyFailed: boolean): Promise<number> {
    const sub = await this.get(principal, id);
    this.assertSending(await this.view(sub), 'replaying');
    return this.redelivery.replay(sub, since, onlyFailed);
  }

  /** Refuses to queue deliveries that could not be sent: the subscription must be active and its key able to send. */
  assertSending(view: SubscriptionView, doing: string): void {
    if (view.state === 'blocked') throw Problems.conflict(`The subscription is blocked: ${view.state_reason}`);
    if (view.state !== 'active') throw Problems.conflict(`The subscription is ${view.state}; enable it before ${doing}`);
  }

  private async runVerification(sub: SubscriptionEntity): Promise<VerificationResult> {
    const result = await this.verifier.verify(sub);
    if (sub.state === 'pending_verification') {
      if (result.verified) await this.repo.enable(sub.tenantId, sub.id, 'active', null);
      else await this.repo.enable(sub.tenantId, sub.id, 'pending_verification', `verification failed: ${result.error}`);
    }
    return result;
  }

  private async safeUrl(raw: string): Promise<string> {
    const verdict = await checkWebhookDestination(raw, { allowInsecureTargets: this.allowInsecureTargets });
    if (!verdict.ok) {
      throw Problems.unprocessable('unsafe-url', 'Unsafe webhook URL', `url ${verdict.reason}`, [{ pointer: '#/url', detail: verdict.reason }]);
    }
    return verdict.url.toString();
  }

  private async checkEventTypes(principal: Principal, patterns: string[]): Promise<void> {
    const unknown = await this.registry.unknownPatterns(principal.tenantId, patterns);
    if (unknown.length > 0) {
      throw Problems.unprocessable(
        'unknown-event-type',
        'Unknown event type',
        `unknown event types: ${unknown.join(', ')}; see GET /v1/event-types`,
        unknown.map((u) => ({ pointer: `#/event_types/${patterns.indexOf(u)}`, detail: `unknown event type '${u}'` })),
      );
    }
  }

  /** Every type listed must be one the tenant sees, and every version one it has. */
  private async checkSchemaVersions(principal: Principal, versions: Record<string, number[]> | null | undefined): Promise<void> {
    const errors: Array<{ pointer: string; detail: string }> = [];
    for (const [type, listed] of Object.entries(versions ?? {})) {
      const def = await this.registry.find(principal.tenantId, type);
      const pointer = `#/schema_versions/${type}`;
      if (!def) {
        errors.push({ pointer, detail: `unknown event type '${type}'` });
        continue;
      }
      const known = new Set(def.versions.map((v) => v.version));
      for (const v of listed.filter((n) => !known.has(n))) {
        errors.push({ pointer, detail: `${type} has no schema version ${v} (it has ${[...known].join(', ')})` });
      }
    }
    if (errors.length > 0) {
      throw Problems.unprocessable('unknown-schema-version', 'Unknown schema version', errors.map((e) => e.detail).join('; '), errors);
    }
  }

  /** The filter to store (null: none), or a 422 `invalid-filter` naming each bad operator and where it is (see contracts' `subscription-filter`). */
  private checkFilter(filter: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
    if (filter === undefined || filter === null) return null;
    const errors = subscriptionFilterErrors(filter);
    if (errors.length > 0) {
      throw Problems.unprocessable('invalid-filter', 'Invalid filter', errors.map((e) => `${e.pointer.slice(2)}: ${e.detail}`).join('; '), errors);
    }
    return filter;
  }

  private acceptSecret(scheme: SubscriptionEntity['signatureScheme'], given: string | undefined): string {
    if (given === undefined) return generateSecret(scheme);
    if (!isValidSecret(scheme, given)) {
      const detail = scheme === 'standard-webhooks' ? 'must be whsec_ followed by at least 24 base64 bytes' : 'must be 16 to 256 characters';
      throw Problems.unprocessable('invalid-secret', 'Invalid secret', `secret ${detail}`, [{ pointer: '#/secret', detail }]);
    }
    return given;
  }
}

/**
 * The rate limit to store (null: none), or a 422 `invalid-rate-limit` naming each bad field: `rate_limit` must be
 * an object (or null) of whole numbers within RateLimitDto's bounds, `burst` (default `per_second`) at least
 * `per_second`. Checked here rather than by the validation pipe so that every refusal of the limit is the same 422.
 */
function checkRateLimit(value: unknown): { perSecond: number; burst: number } | null {
  if (value === undefined || value === null) return null;
  const refuse = (errors: Array<{ pointer: string; detail: string }>) =>
    Problems.unprocessable('invalid-rate-limit', 'Invalid rate limit', errors.map((e) => `${e.pointer.slice(2)}: ${e.detail}`).join('; '), errors);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw refuse([{ pointer: '#/rate_limit', detail: 'rate_limit must be an object {per_second, burst} or null' }]);
  }
  const dto = plainToInstance(RateLimitDto, value);
  const failures = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (failures.length > 0) {
    throw refuse(
      failures.map((f) => {
        // class-validator lists a field's constraints last decorator first: the last says what the value should be.
        const details = Object.values(f.constraints ?? {});
        const detail = f.value === undefined && !('whitelistValidation' in (f.constraints ?? {})) ? `${f.property} is required` : details[details.length - 1];
        return { pointer: `#/rate_limit/${f.property}`, detail: `rate_limit.${detail}` };
      }),
    );
  }
  const burst = dto.burst ?? dto.per_second;
  if (burst < dto.per_second) {
    throw refuse([{ pointer: '#/rate_limit/burst', detail: `rate_limit.burst must be at least per_second (${dto.per_second})` }]);
  }
  return { perSecond: dto.per_second, burst };
}
