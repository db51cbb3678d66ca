import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ProblemException } from '@hookhub/platform';
import { RequestTrace, type TraceContext } from '@hookhub/tracing';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { EventsService } from './events.service';
import { BatchReceiptView, EventIdPipe, PublishBatchDto, PublishEventDto, PublishReceiptView, StoredEventView } from './publish-event.dto';

@ApiTags('events')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(202)
  @RequireRoles('publisher')
  @ApiOperation({ summary: 'Publish a domain event; 202 means JetStream has stored it' })
  @ApiAcceptedResponse({ type: PublishReceiptView, description: 'Stored on JetStream (or stored before: `duplicate`)' })
  @ApiUnprocessableEntityResponse({
    description: 'Unknown event type (`unknown-event-type`), or the event breaks its type’s schema (`invalid-event`, each field in `errors`)',
  })
  @ApiServiceUnavailableResponse({ description: 'JetStream did not confirm (`event-not-confirmed`): publish again with the same id' })
  publish(@CurrentPrincipal() principal: Principal, @Body() dto: PublishEventDto, @RequestTrace() trace?: TraceContext): Promise<PublishReceiptView> {
    return this.events.publish(principal, dto, trace);
  }

  @Post('batch')
  @HttpCode(202)
  @RequireRoles('publisher')
  @ApiOperation({
    summary: 'Publish up to 1,000 events; each is checked and stored on its own, and the answer says what became of each',
    description:
      '202: every event was stored (or stored before). 207: some were, and `items` says which failed and why; the stored ones stay stored. ' +
      '422 (`invalid-batch`) or 503 (`event-not-confirmed`): none was stored, with `items` in the problem document. ' +
      'Publish failed events again with the same id: a repeated id is stored once.',
  })
  @ApiAcceptedResponse({ type: BatchReceiptView, description: 'Every event stored on JetStream (`accepted` or `duplicate`)' })
  @ApiResponse({ status: 207, type: BatchReceiptView, description: 'Some events stored, some not: see `items`' })
  @ApiUnprocessableEntityResponse({ description: 'No event stored, every one invalid (`invalid-batch`, each event’s problem in `items`)' })
  @ApiServiceUnavailableResponse({ description: 'No event stored, JetStream confirmed none (`event-not-confirmed`): publish again with the same ids' })
  async publishBatch(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: PublishBatchDto,
    @Res({ passthrough: true }) res: Response,
    @RequestTrace() trace?: TraceContext,
  ): Promise<BatchReceiptView> {
    const receipt = await this.events.publishBatch(principal, dto.events, trace);
    if (receipt.failed === 0) return receipt;
    if (receipt.accepted + receipt.duplicates > 0) {
      res.status(HttpStatus.MULTI_STATUS);
      return receipt;
    }
    const invalid = receipt.items.every((i) => i.status === 'invalid');
    throw new ProblemException(
      invalid ? HttpStatus.UNPROCESSABLE_ENTITY : HttpStatus.SERVICE_UNAVAILABLE,
      invalid ? 'invalid-batch' : 'event-not-confirmed',
      invalid ? 'Invalid batch' : 'Events not confirmed',
      invalid
        ? `no event of the batch was stored: every one is invalid (see items)`
        : 'no event of the batch was stored: JetStream confirmed none; publish them again with the same ids (a repeated id is stored once)',
      { items: receipt.items },
    );
  }

  @Get(':id')
  @RequireRoles('reader', 'publisher')
  @ApiOperation({
    summary: 'An event as the event log recorded it',
    description:
      'The full envelope, as subscriptions with the full format receive it (a deleted resource’s model is erased from its events). ' +
      'Events are kept for the retention period only; after it, and before the event is recorded (about a second after the 202), the answer is 404.',
  })
  @ApiOkResponse({ type: StoredEventView, description: 'The recorded event' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', EventIdPipe) id: string): Promise<StoredEventView> {
    return this.events.get(principal, id);
  }
}
