import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '@hookhub/platform';

/** The dispatcher's Prometheus metrics. */
@Injectable()
export class DeliveryMetrics {
  readonly attempts: Counter<'outcome'>;
  readonly attemptSeconds: Histogram<'outcome'>;
  readonly retriesScheduled: Counter<'where'>;
  readonly deferred: Counter;
  readonly disabled: Counter;
  readonly filtered: Counter;

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
  }
}
