import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { AttemptStats } from '@hookhub/persistence';
import { SUBSCRIPTION_VIEW_STATES, type SubscriptionViewState } from '../subscriptions/subscription.dto';

export const HEALTH_WINDOWS = ['hour', 'day'] as const;
export type HealthWindow = (typeof HEALTH_WINDOWS)[number];

/** Each window's length and bucket: 12 buckets of 5 minutes, or 24 of an hour. */
export const HEALTH_WINDOW_SHAPES: Record<HealthWindow, { ms: number; bucketMs: number }> = {
  hour: { ms: 3_600_000, bucketMs: 300_000 },
  day: { ms: 86_400_000, bucketMs: 3_600_000 },
};

export class HealthQuery {
  @ApiPropertyOptional({ enum: HEALTH_WINDOWS, default: 'hour', description: 'The last hour (12 buckets of 5 minutes) or the last day (24 of an hour)' })
  @IsOptional()
  @IsIn(HEALTH_WINDOWS)
  window?: HealthWindow;
}

export class AttemptStatsView {
  @ApiProperty({ description: 'HTTP attempts started' }) attempts: number;
  @ApiProperty({ description: 'Attempts the endpoint answered with 2xx' }) successes: number;
  @ApiProperty() failures: number;
  @ApiProperty({ nullable: true, type: Number, description: 'successes / attempts, 0 to 1; null without attempts' }) success_rate: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Median attempt duration; null without attempts' }) latency_p50_ms: number | null;
  @ApiProperty({ nullable: true, type: Number, description: '99th percentile of attempt durations; null without attempts' }) latency_p99_ms: number | null;

  static of(s: AttemptStats): AttemptStatsView {
    const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    return {
      attempts: s.attempts,
      successes: s.successes,
      failures: s.failures,
      success_rate: s.attempts === 0 ? null : s.successes / s.attempts,
      latency_p50_ms: round(s.p50Ms),
      latency_p99_ms: round(s.p99Ms),
    };
  }
}

export class HealthBucketView extends AttemptStatsView {
  @ApiProperty({ description: 'Start of the bucket' }) start: string;
}

export class SubscriptionHealthView extends AttemptStatsView {
  @ApiProperty() subscription_id: string;
  @ApiProperty({ enum: HEALTH_WINDOWS }) window: HealthWindow;
  @ApiProperty({ description: 'Attempts started at or after this time…' }) since: string;
  @ApiProperty({ description: '…and before this one (now)' }) until: string;
  @ApiProperty({ description: 'Length of each bucket' }) bucket_ms: number;
  @ApiProperty({ type: [HealthBucketView], description: 'The window in equal buckets, oldest first, empty ones included' }) buckets: HealthBucketView[];
  @ApiProperty({ description: 'Deliveries waiting to be sent now (pending or retrying)' }) backlog: number;
  @ApiProperty({ enum: SUBSCRIPTION_VIEW_STATES }) state: SubscriptionViewState;
  @ApiProperty({ nullable: true, type: String, description: 'Why it is not active, e.g. why it was disabled' }) state_reason: string | null;
  @ApiProperty() consecutive_failures: number;
  @ApiProperty({ nullable: true, type: String }) failing_since: string | null;
  @ApiProperty({ nullable: true, type: String }) disabled_at: string | null;
}
