// What the apps wire: the global module and the events stream's bootstrap.
export { JetstreamModule, type JetstreamOptions } from './jetstream.module';
export { EventsStreamBootstrap } from './events-stream.bootstrap';
// The dispatcher's worker: the connection and its settings, stream provisioning, and the consumers whose messages delivery's pipelines take.
export { JetstreamConnection } from './jetstream-connection';
export { JETSTREAM_SETTINGS, type JetstreamSettings } from './jetstream.config';
export { StreamProvisioner, type DurableConsumerSpec } from './stream-provisioner';
export { EVENTS_CONSUMER, RETRIES_CONSUMER } from './consumer-names';
export { ConsumerRunner, type ConsumerRunOptions, type InboundMessage, type RunningConsumer } from './consumer-runner';
export { ConsumerWatchdog, type ConsumerWatch } from './consumer-watchdog';
// Publishing events (the admin API, delivery's disable notices, ingest) and scheduling retries (delivery).
export { EventPublisher, type PublishOptions, type PublishReceipt } from './event-publisher';
export { RetryQueue, type StoredRetryJob } from './retry-queue';
// Audits: what a stream holds, read by sequence, and published again.
export { StoredMessages, type StoredMessage } from './stored-messages';
