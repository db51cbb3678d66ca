import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { BaseConfig } from '@hookhub/platform';
import { ConsumerRunner } from './consumer-runner';
import { EventPublisher } from './event-publisher';
import { JETSTREAM_SETTINGS, jetstreamSettings } from './jetstream.config';
import { JetstreamConnection } from './jetstream-connection';
import { RetryQueue } from './retry-queue';
import { StreamProvisioner } from './stream-provisioner';

@Global()
@Module({
  providers: [
    {
      provide: JETSTREAM_SETTINGS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<BaseConfig, true>) =>
        jetstreamSettings(config, process.env.HOOKHUB_SERVICE ?? 'hookhub'),
    },
    JetstreamConnection,
    StreamProvisioner,
    EventPublisher,
    ConsumerRunner,
    RetryQueue,
  ],
  exports: [JETSTREAM_SETTINGS, JetstreamConnection, StreamProvisioner, EventPublisher, ConsumerRunner, RetryQueue],
})
export class JetstreamModule {}
