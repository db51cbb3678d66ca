import { Module } from '@nestjs/common';
import { EventRecorder } from './event-recorder';

@Module({ providers: [EventRecorder], exports: [EventRecorder] })
export class EventStoreModule {}
