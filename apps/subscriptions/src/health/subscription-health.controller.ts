import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SubscriptionHealthRepository } from '@hookhub/persistence';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { ParseResourceIdPipe } from '../common/parse-id.pipe';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { AttemptStatsView, HEALTH_WINDOW_SHAPES, HealthBucketView, HealthQuery, SubscriptionHealthView } from './subscription-health.dto';

/** A subscription's health at a glance (the portal's charts): attempts, success rate and latency over the last hour or day, and its backlog. */
@ApiTags('subscriptions')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@RequireRoles('admin', 'reader')
@Controller('v1/subscriptions')
export class SubscriptionHealthController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly health: SubscriptionHealthRepository,
  ) {}

  @Get(':id/health')
  @ApiOperation({
    summary: 'Success rate, attempts and latency p50/p99 over the last hour or day, in buckets; the backlog; the state and why',
    description: 'Counts HTTP attempts started in the window (retries included) of deliveries created up to a day before it, from the delivery log.',
  })
  @ApiOkResponse({ type: SubscriptionHealthView, description: 'The health of the subscription' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Subscription')) id: string,
    @Query() query: HealthQuery,
  ): Promise<SubscriptionHealthView> {
    const view = await this.subscriptions.view(await this.subscriptions.get(principal, id));
    const window = query.window ?? 'hour';
    const shape = HEALTH_WINDOW_SHAPES[window];
    const until = new Date();
    const since = new Date(until.getTime() - shape.ms);
    const rows = await this.health.health(principal.tenantId, id, since, until, shape.bucketMs);
    return {
      subscription_id: id,
      window,
      since: since.toISOString(),
      until: until.toISOString(),
      bucket_ms: shape.bucketMs,
      ...AttemptStatsView.of(rows.total),
      buckets: rows.buckets.map((b): HealthBucketView => ({ start: b.start.toISOString(), ...AttemptStatsView.of(b) })),
      backlog: rows.backlog,
      state: view.state,
      state_reason: view.state_reason,
      consecutive_failures: view.consecutive_failures,
      failing_since: view.failing_since,
      disabled_at: view.disabled_at,
    };
  }
}
