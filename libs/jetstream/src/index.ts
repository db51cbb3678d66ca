export * from './jetstream.config';
export * from './jetstream-connection';
export * from './stream-provisioner';
export * from './event-publisher';
export * from './consumer-runner';
export * from './jetstream.module';
export * from './retry-queue';
export * from './events-stream.bootstrap';
