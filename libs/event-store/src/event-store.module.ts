import { Module } from '@nestjs/common';
import { PersistenceModule } from '@hookhub/persistence';
import { EventRecorder } from './event-recorder';

@Module({ imports: [PersistenceModule], providers: [EventRecorder], exports: [EventRecorder] })
export class EventStoreModule {}
