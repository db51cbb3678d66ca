import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * How far before a window the deliveries whose attempts count may have been
 * created: a retry started in the window belongs to a delivery created up to
 * this long before it. A day covers the default retry schedule (about 2.6 h in
 * all) many times over and keeps the scan to a few day partitions.
 */
export const HEALTH_DELIVERY_SLACK_MS = 24 * 3_600_000;

/** Attempts of one stretch of time: counts and latency percentiles (null without attempts). */
export interface AttemptStats {
  attempts: number;
  successes: number;
  failures: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface SubscriptionHealthRows {
  total: AttemptStats;
  /** One per bucket, oldest first, empty ones included. */
  buckets: Array<AttemptStats & { start: Date }>;
  /** Deliveries waiting to be sent: pending or retrying. */
  backlog: number;
}

/** A subscription's recent delivery health, read from the delivery log: what the portal charts. */
@Injectable()
export class SubscriptionHealthRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Attempts started in [since, until) in buckets of `bucketMs`, with the totals, and the backlog now. */
  async health(tenantId: string, subscriptionId: string, since: Date, until: Date, bucketMs: number): Promise<SubscriptionHealthRows> {
    const bucketCount = Math.ceil((until.getTime() - since.getTime()) / bucketMs);
    // Attempts joined to their deliveries on the partition key too (delivery_created_at = created_at), so both sides prune to the days that matter.
    const rows: Array<{ bucket: number | null; attempts: number; successes: number; p50: number | null; p99: number | null }> = await this.dataSource.query(
      `SELECT floor(extract(epoch FROM a.started_at - $3::timestamptz) * 1000 / $5)::int AS bucket,
              count(*)::int AS attempts,
              count(*) FILTER (WHERE a.outcome = 'success')::int AS successes,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY a.duration_ms) AS p99
         FROM deliveries d
         JOIN delivery_attempts a ON a.delivery_id = d.id AND a.delivery_created_at = d.created_at
        WHERE d.tenant_id = $1 AND d.subscription_id = $2
          AND d.created_at >= $6::timestamptz AND a.delivery_created_at >= $6::timestamptz
          AND a.started_at >= $3::timestamptz AND a.started_at < $4::timestamptz
        GROUP BY ROLLUP (1)`,
      [tenantId, subscriptionId, since, until, bucketMs, new Date(since.getTime() - HEALTH_DELIVERY_SLACK_MS)],
    );
    const [backlog]: Array<{ n: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND subscription_id = $2 AND status IN ('pending', 'retrying')`,
      [tenantId, subscriptionId],
    );
    const stats = (r: (typeof rows)[number] | undefined): AttemptStats => ({
      attempts: r?.attempts ?? 0,
      successes: r?.successes ?? 0,
      failures: (r?.attempts ?? 0) - (r?.successes ?? 0),
      p50Ms: r?.p50 ?? null,
      p99Ms: r?.p99 ?? null,
    });
    const byBucket = new Map(rows.filter((r) => r.bucket !== null).map((r) => [r.bucket!, r]));
    return {
      total: stats(rows.find((r) => r.bucket === null)),
      buckets: Array.from({ length: bucketCount }, (_, i) => ({ start: new Date(since.getTime() + i * bucketMs), ...stats(byBucket.get(i)) })),
      backlog: backlog.n,
    };
  }
}
