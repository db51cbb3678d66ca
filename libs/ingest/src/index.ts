// What the apps wire: the module (provider-ingest receives callbacks, the admin API manages connections) and the registry of adapters.
export { IngestModule } from './ingest.module';
export type { IngestSettings } from './ingest.settings';
export { ProviderRegistry } from './provider-registry';
// provider-ingest's controller: one callback in, one outcome out.
export { CallbackReceiver, type IncomingCallback, type ReceiveOutcome } from './callback-receiver';
// The admin API seals and checks a connection's credentials.
export { ConnectionCredentials, type CredentialProblem, type StoredCredentials } from './connection-credentials';
// For the end-to-end tests, which build ingested events directly.
export { IngestEventFactory, type ConnectionRef } from './ingest-event-factory';
