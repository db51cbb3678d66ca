import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { BaseConfig, HealthModule, MetricsModule } from '@hookhub/platform';
import { ConsumerRunner } from './consumer-runner';
import { ConsumerWatchdog } from './consumer-watchdog';
import { EventPublisher } from './event-publisher';
import { JETSTREAM_SETTINGS, jetstreamSettings } from './jetstream.config';
import { JetstreamConnection } from './jetstream-connection';
import { RetryQueue } from './retry-queue';
import { StreamProvisioner } from './stream-provisioner';
import { StoredMessages } from './stored-messages';

export interface JetstreamOptions {
  /** The NATS connection name, which tells the server (and its monitoring) which app holds the connection. */
  connectionName: string;
}

/**
 * The app's one NATS connection, named by the app. Global, like the configuration: it is a root
 * that each app sets up once with its name, and the lib modules that publish or consume (delivery,
 * ingest) use it without being able to name it themselves.
 */
@Global()
@Module({})
export class JetstreamModule {
  static forRoot(options: JetstreamOptions): DynamicModule {
    return {
      module: JetstreamModule,
      imports: [HealthModule, MetricsModule],
      providers: [
        {
          provide: JETSTREAM_SETTINGS,
          inject: [ConfigService],
          useFactory: (config: ConfigService<BaseConfig, true>) => jetstreamSettings(config, options.connectionName),
        },
        JetstreamConnection,
        StreamProvisioner,
        EventPublisher,
        ConsumerRunner,
        ConsumerWatchdog,
        RetryQueue,
        StoredMessages,
      ],
      exports: [JETSTREAM_SETTINGS, JetstreamConnection, StreamProvisioner, EventPublisher, ConsumerRunner, ConsumerWatchdog, RetryQueue, StoredMessages],
    };
  }
}
