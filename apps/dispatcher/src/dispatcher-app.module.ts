import { DynamicModule, Module } from '@nestjs/common';
import { DeliveryModule } from '@hookhub/delivery';
import { JetstreamModule } from '@hookhub/jetstream';
import { appFoundation, MetricsModule } from '@hookhub/platform';
import { StorageModule } from '@hookhub/storage';
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
        ...appFoundation(SERVICE, DispatcherConfig, overrides),
        MetricsModule,
        JetstreamModule.forRoot({ connectionName: SERVICE }),
        StorageModule.forRoot({ retention: true }),
        DeliveryModule,
      ],
      providers: [DispatcherWorker],
    };
  }
}
