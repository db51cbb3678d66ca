import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { EVENT_ID_PATTERN } from '@hookhub/contracts';
import { createValidationPipe, ProblemDocument, Problems } from '@hookhub/platform';
import { IsParseableDate } from '../common/parseable-date';

/**
 * An event as a publisher sends it: the envelope of the full format, where
 * the hub fills `account_id` and `account_url` from the caller's tenant, and
 * `id`/`created_at` when omitted. `data` and `model` are checked against the
 * event type's JSON Schema (GET /v1/event-types).
 */
export class PublishEventDto {
  @ApiPropertyOptional({ description: 'Unique per tenant; publishing the same id again stores nothing new', example: '7f94629' })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(EVENT_ID_PATTERN), { message: 'id must be 1-128 letters, digits, or . _ : -' })
  id?: string;

  @ApiProperty({ example: 'ticket.label_added', description: 'A built-in type or one defined through the API (GET /v1/event-types)' })
  @IsString()
  @Length(1, 100)
  type: string;

  @ApiPropertyOptional({
    minimum: 1,
    example: 1,
    description:
      "The version of the type's schema the event follows; the latest when omitted. It is not part of the envelope: receivers get it in " +
      '`X-Webhook-Schema-Version`, and subscriptions may accept only some versions.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  schema_version?: number;

  @ApiPropertyOptional({ description: 'ISO-8601; defaults to now', example: '2016-10-17T19:52:43Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @IsParseableDate()
  created_at?: string;

  @ApiPropertyOptional({ description: "Must be the caller's tenant when given" })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  account_id?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { label_id: '97b0a40', label_name: 'High Priority' } })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'user' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  actor_type?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  actor_id?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor_name?: string | null;

  @ApiPropertyOptional({ description: 'Implied by the type when omitted', example: 'ticket' })
  @IsOptional()
  @IsString()
  model_type?: string;

  @ApiProperty({ example: 'a52ec86' })
  @IsString()
  @Length(1, 128)
  model_id: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: 'Snapshot of the resource; null only for deletions' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsObject()
  model?: Record<string, unknown> | null;
}

/** Most events in one batch. */
export const MAX_BATCH_EVENTS = 1_000;
/** Largest body of a batch (other routes: 256 KiB). */
export const BATCH_BODY_LIMIT = '5mb';

export class PublishBatchDto {
  @ApiProperty({
    type: 'array',
    items: { $ref: '#/components/schemas/PublishEventDto' },
    minItems: 1,
    maxItems: MAX_BATCH_EVENTS,
    description: `1 to ${MAX_BATCH_EVENTS} events, each as POST /v1/events takes it (the body at most ${BATCH_BODY_LIMIT}); each is checked on its own`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_EVENTS)
  events: unknown[];
}

const itemValidation = createValidationPipe();

/** One event of a batch, checked exactly as POST /v1/events checks its body (a problem is thrown as there). */
export async function publishEventOf(item: unknown): Promise<PublishEventDto> {
  return (await itemValidation.transform(item, { type: 'body', metatype: PublishEventDto })) as PublishEventDto;
}

export const BATCH_ITEM_STATUSES = ['accepted', 'duplicate', 'invalid', 'not_confirmed'] as const;
export type BatchItemStatus = (typeof BATCH_ITEM_STATUSES)[number];

export class BatchItemView {
  @ApiProperty({ description: 'Position in `events`, from 0' }) index: number;
  @ApiProperty({ nullable: true, type: String, description: 'The event id (generated when the event had none); null when the event was not an object' })
  id: string | null;
  @ApiProperty({
    enum: BATCH_ITEM_STATUSES,
    description:
      '`accepted`: stored on JetStream. `duplicate`: stored before, nothing new. `invalid`: refused, nothing stored (`problem` says why). ' +
      '`not_confirmed`: JetStream did not confirm; publish it again with the same id',
  })
  status: BatchItemStatus;
  @ApiPropertyOptional({ description: 'Of a stored event' }) schema_version?: number;
  @ApiPropertyOptional({ description: 'Of a stored event: its type or version is deprecated' }) deprecated?: boolean;
  @ApiPropertyOptional({ type: Object, additionalProperties: true, description: 'The problem document POST /v1/events would have answered' })
  problem?: ProblemDocument;
}

export class BatchReceiptView {
  @ApiProperty({ description: 'Events stored now' }) accepted: number;
  @ApiProperty({ description: 'Events stored before (same id)' }) duplicates: number;
  @ApiProperty({ description: 'Events not stored: invalid or not confirmed' }) failed: number;
  @ApiProperty({ type: [BatchItemView], description: 'One per event, in order' }) items: BatchItemView[];
}

export class PublishReceiptView {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'True when this id was published before; nothing new was stored' }) duplicate: boolean;
  @ApiProperty({ description: "The version of the type's schema the event was checked against and is delivered as" }) schema_version: number;
  @ApiProperty({ description: 'The type or this version of it is deprecated: move to a newer one' }) deprecated: boolean;
}

/** An event id in a path: one that breaks the id syntax cannot exist, so it is a 404 like an unknown one. */
@Injectable()
export class EventIdPipe implements PipeTransform<string, string> {
  private readonly syntax = new RegExp(EVENT_ID_PATTERN);

  transform(value: string): string {
    if (!this.syntax.test(value)) throw Problems.notFound('Event');
    return value;
  }
}

/** A recorded event: the envelope of the full format. `data` and `model` follow the type's schema in GET /v1/event-types. */
export class StoredEventView {
  @ApiProperty({ example: '7f94629' }) id: string;
  @ApiProperty({ description: 'The tenant' }) account_id: string;
  @ApiProperty({ required: false }) account_url?: string;
  @ApiProperty({ example: '2016-10-17T19:52:43Z' }) created_at: string;
  @ApiProperty({ example: 'ticket.label_added' }) type: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, required: false }) actor_type?: string | null;
  @ApiProperty({ nullable: true, type: String, required: false }) actor_id?: string | null;
  @ApiProperty({ nullable: true, type: String, required: false }) actor_name?: string | null;
  @ApiProperty({ example: 'ticket' }) model_type: string;
  @ApiProperty() model_id: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Null for deletions, and once the resource was deleted' })
  model: Record<string, unknown> | null;
}
