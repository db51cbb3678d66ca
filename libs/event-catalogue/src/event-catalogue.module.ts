import { Module } from '@nestjs/common';
import { PersistenceModule } from '@hookhub/persistence';
import { EventTypeRegistry } from './event-type-registry';

/** The event catalogue of this process: built-in types and those defined through the API. */
@Module({ imports: [PersistenceModule], providers: [EventTypeRegistry], exports: [EventTypeRegistry] })
export class EventCatalogueModule {}
