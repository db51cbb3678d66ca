import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { EVENT_TYPE_PATTERN_SYNTAX, EVENT_TYPE_SYNTAX, SUBSCRIPTION_FILTER_LIMITS, SUBSCRIPTION_FILTER_OPERATORS } from '@hookhub/contracts';
import { ListQuery } from '../common/pagination.dto';
import { IsParseableDate } from '../common/parseable-date';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsISO8601,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidationOptions,
} from 'class-validator';
import {
  DELIVERY_ORDERINGS,
  DeliveryOrdering,
  PAYLOAD_FORMATS,
  PayloadFormat,
  SIGNATURE_SCHEMES,
  SignatureScheme,
  SUBSCRIPTION_STATES,
  SubscriptionEntity,
} from '@hookhub/persistence';

/** Header names the hub sets itself; a subscription may not override them. */
const RESERVED_HEADER = /^(content-type|content-length|host|connection|transfer-encoding|user-agent|x-webhook-.*|webhook-.*|enchant-signature)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** Event types (at most 100) mapped to lists of 1–100 distinct positive schema versions. */
function IsSchemaVersionMap(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isSchemaVersionMap',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must map event types to lists of schema versions (positive integers)`, ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= 100 &&
            entries.every(
              ([type, versions]) =>
                EVENT_TYPE_SYNTAX.test(type) &&
                Array.isArray(versions) &&
                versions.length >= 1 &&
                versions.length <= 100 &&
                new Set(versions).size === versions.length &&
                versions.every((v) => Number.isInteger(v) && v > 0 && v <= 1_000_000),
            )
          );
        },
      },
    });
}

/** A map of custom HTTP headers: valid names, none reserved, printable values. */
function IsHeaderMap(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isHeaderMap',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must map header names (not reserved ones) to printable values, at most 20`, ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= 20 &&
            entries.every(([k, v]) => HEADER_NAME.test(k) && !RESERVED_HEADER.test(k) && typeof v === 'string' && v.length <= 1000 && !/[\r\n\0]/.test(v))
          );
        },
      },
    });
}

/** Both numbers are checked by the service (a 422 `invalid-rate-limit` naming the field), with these rules. */
export const RATE_LIMIT_BOUNDS = { perSecond: { min: 1, max: 10_000 }, burst: { min: 1, max: 100_000 } } as const;

export class RateLimitDto {
  @ApiProperty({
    minimum: RATE_LIMIT_BOUNDS.perSecond.min,
    maximum: RATE_LIMIT_BOUNDS.perSecond.max,
    example: 50,
    description: 'Deliveries a second to the endpoint over time, summed over every dispatcher',
  })
  @IsInt()
  @Min(RATE_LIMIT_BOUNDS.perSecond.min)
  @Max(RATE_LIMIT_BOUNDS.perSecond.max)
  per_second: number;

  @ApiPropertyOptional({
    minimum: RATE_LIMIT_BOUNDS.burst.min,
    maximum: RATE_LIMIT_BOUNDS.burst.max,
    example: 100,
    description:
      'The most deliveries in any one second, at least `per_second` (the default). Half the room over `per_second` lets a busy ' +
      'dispatcher send a little late; the rest may go at once after a quiet spell; then they are paced evenly',
  })
  @IsOptional()
  @IsInt()
  @Min(RATE_LIMIT_BOUNDS.burst.min)
  @Max(RATE_LIMIT_BOUNDS.burst.max)
  burst?: number;
}

export class RateLimitView {
  @ApiProperty({ description: 'Deliveries a second over time, summed over every dispatcher' }) per_second: number;
  @ApiProperty({ description: 'The most deliveries in any one second' }) burst: number;

  static of(s: Pick<SubscriptionEntity, 'ratePerSecond' | 'rateBurst'>): RateLimitView | null {
    const perSecond = s.ratePerSecond ?? null;
    const burst = s.rateBurst ?? null;
    return perSecond === null || burst === null ? null : { per_second: perSecond, burst };
  }
}

export class CreateSubscriptionDto {
  @ApiProperty({ example: 'https://hooks.example.com/hookhub' })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({ example: ['ticket.created', 'message.*'], description: 'Exact types, `<group>.*` or `*`' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @Matches(EVENT_TYPE_PATTERN_SYNTAX, { each: true, message: 'each event type must be a type, `<group>.*` or `*`' })
  event_types: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'integer', minimum: 1 } },
    nullable: true,
    example: { 'order.created': [1] },
    description:
      'Per event type, the schema versions this subscription receives (`X-Webhook-Schema-Version`); events of other versions of that type ' +
      'are not delivered to it. Types not listed: every version. Lets a publisher publish old and new versions side by side during a migration.',
  })
  @IsOptional()
  @IsSchemaVersionMap()
  schema_versions?: Record<string, number[]> | null;

  @ApiPropertyOptional({ description: 'Only events about these model ids', example: ['debde69a-2dbb-427b-b478-6cffd7930ecf'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  model_ids?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { 'model.priority': { $in: ['high', 'urgent'] }, actor_type: 'user' },
    description:
      'A condition on the event envelope (`id`, `type`, `created_at`, `data`, `actor_type`, `model_type`, `model_id`, `model`, …) in MongoDB ' +
      'query syntax: field paths with dots, exact values, and the operators ' +
      SUBSCRIPTION_FILTER_OPERATORS.map((op) => `\`${op}\``).join(', ') +
      '. Events of the subscription’s types that do not match get no delivery and are counted in `filtered_count`. ' +
      `At most ${SUBSCRIPTION_FILTER_LIMITS.maxBytes} bytes of JSON nested ${SUBSCRIPTION_FILTER_LIMITS.maxDepth} levels deep; ` +
      `\`$regex\` takes an RE2 pattern (no back-references or look-around) of at most ${SUBSCRIPTION_FILTER_LIMITS.maxPatternLength} characters ` +
      'with `$options` i, m, s. Anything else is refused with a 422 `invalid-filter` problem naming the operator and where it is. ' +
      'Null or omitted: no filter.',
  })
  @IsOptional()
  @IsObject()
  filter?: Record<string, unknown> | null;

  @ApiPropertyOptional({
    type: RateLimitDto,
    nullable: true,
    description:
      'Most deliveries to the endpoint, for all dispatchers together: `per_second` over time and at most `burst` in any one second. ' +
      'Deliveries over it wait (they are neither failed nor counted as attempts) and go out oldest first as the budget frees; ' +
      'retries wait in the same line. A value that breaks the rules is a 422 `invalid-rate-limit` naming the field. Null or omitted: no limit.',
  })
  @IsOptional()
  @Allow()
  rate_limit?: RateLimitDto | null;

  @ApiPropertyOptional({ enum: PAYLOAD_FORMATS, default: 'full' })
  @IsOptional()
  @IsIn(PAYLOAD_FORMATS)
  format?: PayloadFormat;

  @ApiPropertyOptional({ enum: SIGNATURE_SCHEMES, default: 'sha256' })
  @IsOptional()
  @IsIn(SIGNATURE_SCHEMES)
  signature_scheme?: SignatureScheme;

  @ApiPropertyOptional({
    enum: DELIVERY_ORDERINGS,
    default: 'default',
    description:
      'Order of the deliveries of one resource (same model type and id). `default`: a delivery waits while the previous one ' +
      'has its first attempt in flight, so first attempts arrive in event-log order. `strict`: it also waits while the previous ' +
      'one is retrying, until that one is delivered or dead-lettered. Other resources never wait.',
  })
  @IsOptional()
  @IsIn(DELIVERY_ORDERINGS)
  ordering?: DeliveryOrdering;

  @ApiPropertyOptional({ description: 'Signing secret; generated when omitted. `whsec_…` for standard-webhooks.' })
  @IsOptional()
  @IsString()
  @Length(16, 256)
  secret?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { 'X-Customer-Key': 'abc' } })
  @IsOptional()
  @IsObject()
  @IsHeaderMap()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: [Number], description: 'Delay in ms before each retry', example: [1000, 5000, 30000, 300000, 1800000, 7200000] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(7 * 24 * 3_600_000, { each: true })
  retry_policy_ms?: number[];

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: 7 * 24 * 3_600_000,
    example: 86_400_000,
    description:
      'Auto-disable needs ten consecutive failed attempts and an endpoint failing for at least this long (ms); ' +
      'null or omitted: the hub default (`DISABLE_AFTER_FAILING_MS`, a day)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3_600_000)
  disable_after_failing_ms?: number | null;

  @ApiPropertyOptional({ description: 'When set, the endpoint must echo a challenge before it receives events' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  verify_token?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

/**
 * The states a subscription shows: the stored lifecycle state, except that an
 * active one whose API key may no longer send shows `blocked` (computed on
 * every read from the key, so revoking a key needs no write to its subscriptions).
 */
export const SUBSCRIPTION_VIEW_STATES = [...SUBSCRIPTION_STATES, 'blocked'] as const;
export type SubscriptionViewState = (typeof SUBSCRIPTION_VIEW_STATES)[number];

export class SubscriptionView {
  @ApiProperty() id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) event_types: string[];
  @ApiProperty({ type: [String], nullable: true }) model_ids: string[] | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'integer' } },
    nullable: true,
    description: 'Per event type, the schema versions it receives; null or a type not listed: every version',
  })
  schema_versions: Record<string, number[]> | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'The condition on the envelope an event must meet to be delivered (MongoDB query syntax); null: none',
  })
  filter: Record<string, unknown> | null;
  @ApiProperty({
    description:
      'Events of its types its filter kept out since it was created (no delivery was made for them); counted once per event, ' +
      'written by the dispatchers a moment after the fan-out',
  })
  filtered_count: number;
  @ApiProperty({
    type: RateLimitView,
    nullable: true,
    description: 'Most deliveries to the endpoint for all dispatchers together (see POST); null: no limit',
  })
  rate_limit: RateLimitView | null;
  @ApiProperty({ enum: PAYLOAD_FORMATS }) format: PayloadFormat;
  @ApiProperty({ enum: SIGNATURE_SCHEMES }) signature_scheme: SignatureScheme;
  @ApiProperty({ enum: DELIVERY_ORDERINGS }) ordering: DeliveryOrdering;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Custom header names; values are not shown' })
  headers: Record<string, string>;
  @ApiProperty({ type: [Number] }) retry_policy_ms: number[];
  @ApiProperty() has_verify_token: boolean;
  @ApiProperty({
    enum: SUBSCRIPTION_VIEW_STATES,
    description:
      '`active`: events are delivered. `blocked`: active, but its API key may no longer send (revoked, or without the admin role), ' +
      'so every delivery is blocked until an admin gives it another key (PATCH `api_key_id`). `pending_verification`, `disabled`: see `state_reason`.',
  })
  state: SubscriptionViewState;
  @ApiProperty({ nullable: true, type: String, description: 'Why the subscription is not active' }) state_reason: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The API key whose rights each delivery is sent under: the key that created the subscription, or the one an admin moved it to',
  })
  api_key_id: string | null;
  @ApiProperty({ description: 'Failed attempts in a row; a success resets it' }) consecutive_failures: number;
  @ApiProperty({ nullable: true, type: String, description: 'When the current run of failures began; null while the endpoint answers' })
  failing_since: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Its own minimum failing time before auto-disable; null: the hub default' })
  disable_after_failing_ms: number | null;
  @ApiProperty({ nullable: true, type: String }) disabled_at: string | null;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;

  /** `senderRefusal`: why the subscription's key may not send, or null (see delivery's `senderRefusal`). */
  static of(s: SubscriptionEntity, senderRefusal: string | null): SubscriptionView {
    const blocked = s.state === 'active' && senderRefusal !== null;
    return {
      id: s.id,
      tenant_id: s.tenantId,
      url: s.url,
      event_types: s.eventTypes,
      model_ids: s.modelIds,
      schema_versions: s.schemaVersions,
      filter: s.filter ?? null,
      filtered_count: s.filteredCount ?? 0,
      rate_limit: RateLimitView.of(s),
      format: s.format,
      signature_scheme: s.signatureScheme,
      ordering: s.ordering,
      headers: Object.fromEntries(Object.keys(s.headers).map((k) => [k, '[redacted]'])),
      retry_policy_ms: s.retryPolicyMs,
      has_verify_token: s.verifyToken !== null,
      state: blocked ? 'blocked' : s.state,
      state_reason: blocked ? senderRefusal : s.stateReason,
      api_key_id: s.createdByKeyId,
      consecutive_failures: s.consecutiveFailures,
      failing_since: s.failingSince ? s.failingSince.toISOString() : null,
      disable_after_failing_ms: s.disableAfterFailingMs,
      disabled_at: s.disabledAt ? s.disabledAt.toISOString() : null,
      description: s.description,
      created_at: s.createdAt.toISOString(),
      updated_at: s.updatedAt.toISOString(),
    };
  }
}

export class CreatedSubscriptionView extends SubscriptionView {
  @ApiProperty({ description: 'The signing secret. Shown only in this response.' })
  secret: string;
}

export class SubscriptionPage {
  @ApiProperty({ type: [SubscriptionView] }) items: SubscriptionView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page' }) next_cursor: string | null;
}

export class UpdateSubscriptionDto extends PartialType(OmitType(CreateSubscriptionDto, ['signature_scheme', 'secret'] as const)) {
  @ApiPropertyOptional({
    description:
      "Move the subscription to another of the tenant's API keys (one with the admin role): deliveries are sent under its rights from now on. " +
      'Id, secret and delivery log stay. Unblocks a subscription whose key was revoked.',
    format: 'uuid',
  })
  @IsOptional()
  @IsUUID('all', { message: 'api_key_id must be the id of an API key' })
  api_key_id?: string;
}

export class SubscriptionListQuery extends ListQuery {
  @ApiPropertyOptional({ enum: SUBSCRIPTION_VIEW_STATES })
  @IsOptional()
  @IsIn(SUBSCRIPTION_VIEW_STATES)
  state?: SubscriptionViewState;

  @ApiPropertyOptional({ description: 'Only subscriptions that receive this event type', example: 'ticket.created' })
  @IsOptional()
  @Matches(EVENT_TYPE_SYNTAX, { message: 'event_type must be an event type such as ticket.created' })
  event_type?: string;
}

export class RotateSecretDto {
  @ApiPropertyOptional({ description: 'The new secret; generated when omitted' })
  @IsOptional()
  @IsString()
  @Length(16, 256)
  secret?: string;

  @ApiPropertyOptional({ description: 'How long the previous secret keeps signing too (ms); the configured default when omitted' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3_600_000)
  overlap_ms?: number;
}

export class RotatedSecretView {
  @ApiProperty({ description: 'The new secret. Shown only in this response.' }) secret: string;
  @ApiProperty({ description: 'Until then deliveries carry signatures by both secrets' }) previous_secret_expires_at: string;
}

export class ReplayDto {
  @ApiProperty({ description: 'Re-send events recorded since this time (ISO-8601)', example: '2026-11-23T10:00:00Z' })
  @IsISO8601({ strict: true })
  @IsParseableDate()
  since: string;

  @ApiPropertyOptional({ description: 'Only deliveries that failed for good', default: false })
  @IsOptional()
  @IsBoolean()
  only_failed?: boolean;
}

export class ReplayView {
  @ApiProperty({ description: 'Deliveries queued to be sent again' }) queued: number;
}

export class VerificationView {
  @ApiProperty() verified: boolean;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ type: SubscriptionView }) subscription: SubscriptionView;
}

export class TestPingView {
  @ApiProperty() delivered: boolean;
  @ApiProperty({ nullable: true, type: Number }) response_status: number | null;
  @ApiProperty() duration_ms: number;
  @ApiProperty({ nullable: true, type: String, description: 'The first 4,096 bytes' }) response_body: string | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
}
