import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { ParseResourceIdPipe } from '../common/parse-id.pipe';
import { ListQuery } from '../common/pagination.dto';
import { CreatedSubscriptionView, CreateSubscriptionDto, SubscriptionPage, SubscriptionView } from './subscription.dto';
import { SubscriptionsService } from './subscriptions.service';

@ApiTags('subscriptions')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(private readonly service: SubscriptionsService) {}

  @Post()
  @HttpCode(201)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Subscribe an endpoint to event types; the secret is shown once' })
  @ApiCreatedResponse({ type: CreatedSubscriptionView })
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateSubscriptionDto): Promise<CreatedSubscriptionView> {
    const { subscription, secret } = await this.service.create(principal, dto);
    return { ...SubscriptionView.of(subscription), secret };
  }

  @Get()
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'List subscriptions, newest first' })
  @ApiOkResponse({ type: SubscriptionPage })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListQuery): Promise<SubscriptionPage> {
    const page = await this.service.list(principal, query.limit ?? 50, query.cursor);
    return { items: page.items.map(SubscriptionView.of), next_cursor: page.nextCursor };
  }

  @Get(':id')
  @RequireRoles('admin', 'reader')
  @ApiOkResponse({ type: SubscriptionView })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<SubscriptionView> {
    return SubscriptionView.of(await this.service.get(principal, id));
  }

  @Post(':id/enable')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Enable a subscription; its consecutive-failure count restarts at zero' })
  @ApiOkResponse({ type: SubscriptionView })
  async enable(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<SubscriptionView> {
    return SubscriptionView.of(await this.service.enable(principal, id));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Disable a subscription; waiting retries are cancelled' })
  @ApiOkResponse({ type: SubscriptionView })
  async disable(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<SubscriptionView> {
    return SubscriptionView.of(await this.service.disable(principal, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRoles('admin')
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<void> {
    await this.service.remove(principal, id);
  }
}
