export * from './callback-processor';
export * from './callback-receiver';
export * from './connection-credentials';
export * from './event-ids';
export * from './ingest-event-factory';
export * from './ingest.module';
export * from './ingest.settings';
export * from './provider-registry';
