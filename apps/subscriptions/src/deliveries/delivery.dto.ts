import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { EVENT_TYPE_SYNTAX } from '@hookhub/contracts';
import { ListQuery } from '../common/pagination.dto';
import { IsParseableDate } from '../common/parseable-date';
import { DELIVERY_STATUSES, DeliveryAttemptEntity, DeliveryEntity, DeliveryStatus } from '@hookhub/persistence';

export class DeliveryListQuery extends ListQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ example: 'ticket.created' })
  @IsOptional()
  @Matches(EVENT_TYPE_SYNTAX, { message: 'event_type must be an event type such as ticket.created' })
  event_type?: string;

  @ApiPropertyOptional({ description: 'Created at or after (ISO-8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @IsParseableDate()
  since?: string;

  @ApiPropertyOptional({ description: 'Created before (ISO-8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @IsParseableDate()
  until?: string;
}

export class DeliveryView {
  @ApiProperty() id: string;
  @ApiProperty() subscription_id: string;
  @ApiProperty() event_id: string;
  @ApiProperty({
    description:
      'Where to read the event this delivery sends (GET, same API key): the payload of every attempt is that envelope (full format) ' +
      'or the thin notification made from it',
    example: '/v1/events/7f94629',
  })
  event_url: string;
  @ApiProperty() event_type: string;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: '`failed` is the dead letter: no attempt is left' }) status: DeliveryStatus;
  @ApiProperty() attempt_count: number;
  @ApiProperty({ nullable: true, type: Number }) last_status_code: number | null;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ nullable: true, type: String }) next_attempt_at: string | null;
  @ApiProperty({ nullable: true, type: String }) delivered_at: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;

  static of(d: DeliveryEntity): DeliveryView {
    return {
      id: d.id,
      subscription_id: d.subscriptionId,
      event_id: d.eventId,
      event_url: `/v1/events/${encodeURIComponent(d.eventId)}`,
      event_type: d.eventType,
      status: d.status,
      attempt_count: d.attemptCount,
      last_status_code: d.lastStatusCode,
      reason: d.reason,
      next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
      delivered_at: d.deliveredAt?.toISOString() ?? null,
      created_at: d.createdAt.toISOString(),
      updated_at: d.updatedAt.toISOString(),
    };
  }
}

export class AttemptView {
  @ApiProperty() attempt: number;
  @ApiProperty({ enum: ['success', 'failure'] }) outcome: string;
  @ApiProperty() started_at: string;
  @ApiProperty() duration_ms: number;
  @ApiProperty() request_url: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Custom header values are redacted' })
  request_headers: Record<string, string>;
  @ApiProperty({ nullable: true, type: Number }) response_status: number | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, nullable: true }) response_headers: Record<string, string> | null;
  @ApiProperty({ nullable: true, type: String, description: 'The first 4,096 bytes' }) response_body: string | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;

  static of(a: DeliveryAttemptEntity): AttemptView {
    return {
      attempt: a.attempt,
      outcome: a.outcome,
      started_at: a.startedAt.toISOString(),
      duration_ms: a.durationMs,
      request_url: a.requestUrl,
      request_headers: a.requestHeaders,
      response_status: a.responseStatus,
      response_headers: a.responseHeaders,
      response_body: a.responseBody,
      error: a.error,
    };
  }
}

export class DeliveryDetailView extends DeliveryView {
  @ApiProperty({ type: [AttemptView] }) attempts: AttemptView[];
}

export class DeliveryPage {
  @ApiProperty({ type: [DeliveryView] }) items: DeliveryView[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}
