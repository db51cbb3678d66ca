import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { EventsService } from './events.service';
import { PublishEventDto, PublishReceiptView } from './publish-event.dto';

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
  @ApiAcceptedResponse({ type: PublishReceiptView })
  publish(@CurrentPrincipal() principal: Principal, @Body() dto: PublishEventDto): Promise<PublishReceiptView> {
    return this.events.publish(principal, dto);
  }
}
