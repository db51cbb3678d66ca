import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { ParseResourceIdPipe } from '../common/parse-id.pipe';
import { DeliveriesService } from './deliveries.service';
import { AttemptView, DeliveryDetailView, DeliveryListQuery, DeliveryPage, DeliveryView } from './delivery.dto';

/** The delivery log: every (event, subscription) pair and each of its attempts. */
@ApiTags('deliveries')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@RequireRoles('admin', 'reader')
@Controller('v1')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get('subscriptions/:id/deliveries')
  @ApiOperation({ summary: "A subscription's deliveries, newest first" })
  @ApiOkResponse({ type: DeliveryPage, description: 'One page of deliveries' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Subscription')) id: string,
    @Query() query: DeliveryListQuery,
  ): Promise<DeliveryPage> {
    const page = await this.deliveries.pageForSubscription(principal, id, {
      status: query.status,
      eventType: query.event_type,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      limit: query.limit ?? 50,
      cursor: query.cursor,
    });
    return { items: page.items.map(DeliveryView.of), next_cursor: page.nextCursor };
  }

  @Get('deliveries/:id')
  @ApiOperation({ summary: 'A delivery with every attempt' })
  @ApiOkResponse({ type: DeliveryDetailView, description: 'The delivery and its attempts, oldest first' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Delivery')) id: string): Promise<DeliveryDetailView> {
    const { delivery, attempts } = await this.deliveries.withAttempts(principal, id);
    return { ...DeliveryView.of(delivery), attempts: attempts.map(AttemptView.of) };
  }

  @Post('deliveries/:id/retry')
  @HttpCode(202)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Send a delivery again now (within a second), whatever its state' })
  @ApiAcceptedResponse({ type: DeliveryView, description: 'The delivery, queued' })
  @ApiConflictResponse({ description: 'Its subscription is not active (disabled, pending verification or blocked)' })
  async retry(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Delivery')) id: string): Promise<DeliveryView> {
    return DeliveryView.of(await this.deliveries.retryNow(principal, id));
  }
}
