import { DynamicModule, Module } from '@nestjs/common';
import { DeliveryModule } from '@hookhub/delivery';
import { JetstreamModule } from '@hookhub/jetstream';
import { PersistenceModule } from '@hookhub/persistence';
import { configModuleFor, HealthModule, LoggingModule, MetricsModule } from '@hookhub/platform';
import { SigningModule } from '@hookhub/signing';
import { DispatcherConfig } from './dispatcher.config';
import { DispatcherWorker } from './dispatcher.worker';

/** The `service` field of this app's log lines and the name of its NATS connection. */
const SERVICE = 'dispatcher';

/** Fan-out and signed delivery: a durable consumer of the events stream. */
@Module({})
export class DispatcherAppModule {
  static forRoot(overrides: Record<string, string | number | boolean> = {}): DynamicModule {
    return {
      module: DispatcherAppModule,
      imports: [
        configModuleFor(DispatcherConfig, overrides),
        LoggingModule.forRoot({ service: SERVICE }),
        HealthModule,
        MetricsModule,
        PersistenceModule,
        JetstreamModule.forRoot({ connectionName: SERVICE }),
        SigningModule,
        DeliveryModule,
      ],
      providers: [DispatcherWorker],
    };
  }
}
