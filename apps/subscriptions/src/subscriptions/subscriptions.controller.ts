import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { ParseResourceIdPipe } from '../common/parse-id.pipe';
import {
  CreatedSubscriptionView,
  CreateSubscriptionDto,
  ReplayDto,
  ReplayView,
  RotatedSecretView,
  RotateSecretDto,
  SubscriptionListQuery,
  SubscriptionPage,
  SubscriptionView,
  TestPingView,
  UpdateSubscriptionDto,
  VerificationView,
} from './subscription.dto';
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
  @ApiCreatedResponse({ type: CreatedSubscriptionView, description: 'The subscription, with its secret (shown only here)' })
  @ApiUnprocessableEntityResponse({
    description:
      'The URL is unsafe (`unsafe-url`), an event type unknown (`unknown-event-type`), the filter invalid (`invalid-filter`, each bad operator ' +
      'with its JSON pointer in `errors`) or the secret unusable (`invalid-secret`)',
  })
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateSubscriptionDto): Promise<CreatedSubscriptionView> {
    const { subscription, secret } = await this.service.create(principal, dto);
    return { ...(await this.service.view(subscription)), secret };
  }

  @Get()
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'List subscriptions, newest first; filter by state and event type' })
  @ApiOkResponse({ type: SubscriptionPage, description: 'One page of subscriptions' })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: SubscriptionListQuery): Promise<SubscriptionPage> {
    const page = await this.service.list(principal, query.limit ?? 50, query.cursor, { state: query.state, eventType: query.event_type });
    return { items: await this.service.views(page.items), next_cursor: page.nextCursor };
  }

  @Get(':id')
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'A subscription' })
  @ApiOkResponse({ type: SubscriptionView, description: 'The subscription' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<SubscriptionView> {
    return this.service.view(await this.service.get(principal, id));
  }

  @Patch(':id')
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Change a subscription; a new URL or verify token is verified again; `api_key_id` moves it to another key' })
  @ApiOkResponse({ type: SubscriptionView, description: 'The changed subscription' })
  @ApiUnprocessableEntityResponse({
    description: 'Unsafe URL, unknown event type, invalid filter (`invalid-filter`), or an `api_key_id` that cannot send (`unusable-api-key`)',
  })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Subscription')) id: string,
    @Body() dto: UpdateSubscriptionDto,
  ): Promise<SubscriptionView> {
    return this.service.view(await this.service.update(principal, id, dto));
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Replace the signing secret; both sign during the overlap' })
  @ApiOkResponse({ type: RotatedSecretView, description: 'The new secret (shown only here) and when the previous one stops signing' })
  @ApiUnprocessableEntityResponse({ description: 'The given secret does not suit the signature scheme (`invalid-secret`)' })
  async rotate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Subscription')) id: string,
    @Body() dto: RotateSecretDto,
  ): Promise<RotatedSecretView> {
    const { secret, previousExpiresAt } = await this.service.rotateSecret(principal, id, dto);
    return { secret, previous_secret_expires_at: previousExpiresAt.toISOString() };
  }

  @Post(':id/verify')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Run the verification handshake again' })
  @ApiOkResponse({ type: VerificationView, description: 'The outcome of the handshake and the subscription after it' })
  @ApiConflictResponse({ description: 'The subscription has no verify token' })
  async verify(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<VerificationView> {
    const { result, subscription } = await this.service.verify(principal, id);
    return { verified: result.verified, error: result.error, subscription: await this.service.view(subscription) };
  }

  @Post(':id/test')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Send a signed webhook.test event now and report the outcome' })
  @ApiOkResponse({ type: TestPingView, description: 'What the endpoint answered' })
  async test(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<TestPingView> {
    const r = await this.service.ping(principal, id);
    return { delivered: r.ok, response_status: r.status, duration_ms: r.durationMs, response_body: r.body, error: r.error };
  }

  @Post(':id/replay')
  @HttpCode(202)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Send again every event (or only failed deliveries) since a time' })
  @ApiAcceptedResponse({ type: ReplayView, description: 'How many deliveries were queued' })
  @ApiConflictResponse({ description: 'The subscription is not active (disabled, pending verification or blocked)' })
  async replay(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Subscription')) id: string,
    @Body() dto: ReplayDto,
  ): Promise<ReplayView> {
    return { queued: await this.service.replay(principal, id, new Date(dto.since), dto.only_failed ?? false) };
  }

  @Post(':id/enable')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Enable a subscription; its consecutive-failure count restarts at zero' })
  @ApiOkResponse({ type: SubscriptionView, description: 'The enabled subscription' })
  async enable(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<SubscriptionView> {
    return this.service.view(await this.service.enable(principal, id));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Disable a subscription; waiting retries are cancelled' })
  @ApiOkResponse({ type: SubscriptionView, description: 'The disabled subscription' })
  async disable(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<SubscriptionView> {
    return this.service.view(await this.service.disable(principal, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRoles('admin')
  @ApiOperation({
    summary: 'Delete a subscription with its delivery log',
    description:
      'Nothing more is sent: waiting and parked retries are dropped with their deliveries. A request already on its way to the ' +
      'endpoint (or queued on a dispatcher for about a second) may still arrive; its result is not recorded. Disable instead to keep the log.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Subscription')) id: string): Promise<void> {
    await this.service.remove(principal, id);
  }
}
