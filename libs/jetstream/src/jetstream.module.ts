import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { BaseConfig } from '@hookhub/platform';
import { ConsumerRunner } from './consumer-runner';
import { EventPublisher } from './event-publisher';
import { JETSTREAM_SETTINGS, jetstreamSettings } from './jetstream.config';
import { JetstreamConnection } from './jetstream-connection';
import { RetryQueue } from './retry-queue';
import { StreamProvisioner } from './stream-provisioner';

export interface JetstreamOptions {
  /** The NATS connection name, which tells the server (and its monitoring) which app holds the connection. */
  connectionName: string;
}

@Global()
@Module({})
export class JetstreamModule {
  static forRoot(options: JetstreamOptions): DynamicModule {
    return {
      module: JetstreamModule,
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
        RetryQueue,
      ],
      exports: [JETSTREAM_SETTINGS, JetstreamConnection, StreamProvisioner, EventPublisher, ConsumerRunner, RetryQueue],
    };
  }
}
