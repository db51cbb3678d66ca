import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { IngestModule } from '@hookhub/ingest';
import { EventsStreamBootstrap, JetstreamModule } from '@hookhub/jetstream';
import { appFoundation, MetricsModule } from '@hookhub/platform';
import { StorageModule } from '@hookhub/storage';
import { IngestController } from './ingest/ingest.controller';
import { IngestMetrics } from './ingest/ingest.metrics';
import { TrustProxy } from './ingest/trust-proxy';
import { ProviderIngestConfig } from './provider-ingest.config';

/** The `service` field of this app's log lines and the name of its NATS connection. */
const SERVICE = 'provider-ingest';

/** Incoming provider webhooks: verified, stored, then published as domain events. */
@Module({})
export class ProviderIngestAppModule {
  static forRoot(overrides: Record<string, string | number | boolean> = {}): DynamicModule {
    return {
      module: ProviderIngestAppModule,
      imports: [
        ...appFoundation(SERVICE, ProviderIngestConfig, overrides),
        MetricsModule,
        JetstreamModule.forRoot({ connectionName: SERVICE }),
        StorageModule.forRoot(),
        IngestModule.forRoot({
          inject: [ConfigService],
          useFactory: (config: ConfigService<ProviderIngestConfig, true>) => ({
            snsHost: new RegExp(config.get('INGEST_SNS_HOST_PATTERN', { infer: true })),
            snsAllowHttp: config.get('INGEST_SNS_ALLOW_HTTP', { infer: true }),
            leaseMs: config.get('INGEST_LEASE_MS', { infer: true }),
            maxAttempts: config.get('INGEST_MAX_ATTEMPTS', { infer: true }),
          }),
        }),
      ],
      controllers: [IngestController],
      providers: [
        EventsStreamBootstrap,
        IngestMetrics,
        {
          provide: TrustProxy,
          inject: [ConfigService],
          useFactory: (config: ConfigService<ProviderIngestConfig, true>) => new TrustProxy(config.get('TRUST_PROXY', { infer: true })),
        },
      ],
    };
  }
}
