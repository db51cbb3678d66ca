import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { EventsService } from './events.service';
import { EventIdPipe, PublishEventDto, PublishReceiptView, StoredEventView } from './publish-event.dto';

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
  publish(@CurrentPrincipal() principal: Principal, @Body() dto: PublishEventDto): Promise<PublishReceiptView> {
    return this.events.publish(principal, dto);
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
