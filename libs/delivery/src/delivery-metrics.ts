import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from '@hookhub/platform';

/** The dispatcher's Prometheus metrics. */
@Injectable()
export class DeliveryMetrics {
  readonly attempts: Counter<'outcome'>;
  readonly attemptSeconds: Histogram<'outcome'>;
  readonly retriesScheduled: Counter<'where'>;
  readonly deferred: Counter;
  readonly jobsRecovered: Counter<'cause'>;
  readonly eventsRecovered: Counter;
  readonly disabled: Counter;
  readonly filtered: Counter;
  readonly rateLimited: Counter;
  readonly rateLeased: Counter;
  readonly rateLines: Gauge;
  readonly rateLate: Counter;

  constructor(registry: MetricsRegistry) {
    this.attempts = new Counter({
      name: 'hookhub_delivery_attempts_total',
      help: 'Delivery attempts by outcome (delivered, retrying, failed, blocked)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.attemptSeconds = new Histogram({
      name: 'hookhub_delivery_attempt_duration_seconds',
      help: 'Duration of HTTP delivery attempts',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.retriesScheduled = new Counter({
      name: 'hookhub_retries_scheduled_total',
      help: 'Retries scheduled, by where they wait (jetstream or postgres)',
      labelNames: ['where'],
      registers: [registry],
    });
    this.deferred = new Counter({
      name: 'hookhub_deliveries_deferred_total',
      help: 'First attempts moved to the retries stream because their subscription was saturated',
      registers: [registry],
    });
    this.jobsRecovered = new Counter({
      name: 'hookhub_retry_jobs_recovered_total',
      help: "Attempts whose job had vanished from the retries stream (missing) or was stranded below the consumer's ack floor (orphaned), enqueued again by the overdue sweep",
      labelNames: ['cause'],
      registers: [registry],
    });
    this.eventsRecovered = new Counter({
      name: 'hookhub_events_recovered_total',
      help: 'Events the events consumer counted as acknowledged that were not in the event log, run through the pipeline again by the audit',
      registers: [registry],
    });
    this.disabled = new Counter({
      name: 'hookhub_subscriptions_disabled_total',
      help: 'Subscriptions disabled after consecutive failures',
      registers: [registry],
    });
    // One series for all subscriptions: a subscription label would grow the metrics of every pod with every
    // subscription of every tenant. Each subscription's own count is its filtered_count in the API (PostgreSQL).
    this.filtered = new Counter({
      name: 'hookhub_events_filtered_total',
      help: "Events a subscription's payload filter kept out (no delivery created), summed over subscriptions; per subscription see filtered_count in the API",
      registers: [registry],
    });
    // Rate limits: what waited, what this pod sent under a lease, and the lines it paces (no subscription label, as above).
    this.rateLimited = new Counter({
      name: 'hookhub_deliveries_rate_limited_total',
      help: "Attempts that waited in their subscription's rate line: first attempts created there, retries that joined it when due",
      registers: [registry],
    });
    this.rateLeased = new Counter({
      name: 'hookhub_rate_limit_leased_total',
      help: "Deliveries this pod took from rate lines with send times leased from their subscription's shared budget",
      registers: [registry],
    });
    this.rateLate = new Counter({
      name: 'hookhub_rate_limit_late_total',
      help: 'Leased deliveries put back in their rate line because this pod could not send them at their time (starved of CPU)',
      registers: [registry],
    });
    this.rateLines = new Gauge({
      name: 'hookhub_rate_limit_lines',
      help: 'Rate lines (subscriptions with deliveries waiting for budget) this pod is pacing',
      registers: [registry],
    });
  }
}
