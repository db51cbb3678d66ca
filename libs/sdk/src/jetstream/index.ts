// @hookhub/sdk/jetstream: publishing straight to the hub's JetStream (needs the `nats` package).
export {
  HookhubJetStreamPublisher,
  SCHEMA_VERSION_HEADER,
  type DirectPublishInput,
  type DirectPublishOptions,
  type DirectPublishReceipt,
  type JetStreamPublisherOptions,
  type PreparedEvent,
} from './jetstream-publisher';
