import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '@hookhub/platform';

@Injectable()
export class IngestMetrics {
  private readonly callbacks: Counter<'provider' | 'outcome'>;

  constructor(registry: MetricsRegistry) {
    this.callbacks = new Counter({
      name: 'hookhub_provider_callbacks_total',
      help: 'Provider callbacks received, by provider and outcome (accepted, unauthorized, malformed, not_found, reply, method_not_allowed)',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    });
  }

  count(provider: string, outcome: string): void {
    // Unknown provider names come from the URL: one label value for all of them keeps cardinality bounded.
    this.callbacks.inc({ provider: /^[a-z_]{1,32}$/.test(provider) ? provider : 'other', outcome });
  }
}
