import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { ProviderRegistry } from '@hookhub/ingest';
import { MetricsRegistry } from '@hookhub/platform';

@Injectable()
export class IngestMetrics {
  private readonly callbacks: Counter<'provider' | 'outcome'>;

  constructor(registry: MetricsRegistry) {
    this.callbacks = new Counter({
      name: 'hookhub_provider_callbacks_total',
      help: 'Provider callbacks received, by provider and outcome (accepted, unauthorized, unavailable, malformed, unsupported_media_type, not_found, reply, method_not_allowed)',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    });
  }

  count(provider: string, outcome: string): void {
    // Unknown provider names come from the URL: one label value for all of them keeps cardinality bounded
    // (a name-shaped pattern did not: every /ingest/<random>/<uuid> added a series).
    this.callbacks.inc({ provider: ProviderRegistry.isProvider(provider) ? provider : 'other', outcome });
  }
}
