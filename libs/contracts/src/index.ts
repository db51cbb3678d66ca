// The event envelope and its one serialisation: every app and lib that publishes, stores, signs or sends an event.
export {
  canonicalEnvelope,
  isBuiltInModelType,
  MODEL_TYPES,
  SCHEMA_VERSION_HEADER,
  schemaVersionOf,
  serializeEnvelope,
  withSchemaVersion,
  type EventEnvelope,
  type Model,
  type ModelType,
} from './envelope';
// The event catalogue: built-in types and those defined through the API. The admin API validates, lists and documents
// it; the dispatcher validates and locates resources with it; ingest emits message statuses; providers map to them.
export {
  EVENT_TYPE_DEFINITIONS,
  EVENT_TYPES,
  eventTypeDefinition,
  exampleEnvelope,
  latestVersion,
  MESSAGE_STATUSES,
  SYSTEM_EVENT_GROUP,
  type EventTypeDefinition,
  type EventTypeScope,
  type EventTypeVersion,
  type JsonSchema,
  type MessageStatus,
} from './catalogue/event-types';
export { envelopeSchema, EVENT_ID_PATTERN } from './catalogue/envelope-schema';
export { EventCatalogue, SchemaCompiler, type EventValidationError, type EventValidationResult } from './catalogue/event-catalogue';
export { BUILT_IN_RESOURCE_ROOTS, fillResourcePath, RESOURCE_PATH_SYNTAX, resourceCollection, resourceLocation } from './catalogue/resource-path';
// Event-type patterns: the admin API's DTOs and checks, delivery's matcher and persistence's matching SQL.
export { EVENT_TYPE_PATTERN_SYNTAX, EVENT_TYPE_SYNTAX, eventTypeMatches, patternsMatchingEventType } from './catalogue/event-type-pattern';
// NATS subject names and the retries stream's job: jetstream and delivery.
export { retryMsgId, SubjectNames, type RetryJob } from './subjects';
// Thin notifications and a resource's change status: event-store records them, delivery sends them.
export { changeStatusFor, parentResource, toThinNotification, type ChangeStatus, type ResourceLocation, type ThinNotification } from './thin-notification';
// Payload filters: the admin API validates a subscription's filter, delivery compiles and runs it at fan-out.
export {
  compileSubscriptionFilter,
  InvalidSubscriptionFilter,
  SUBSCRIPTION_FILTER_LIMITS,
  SUBSCRIPTION_FILTER_OPERATORS,
  subscriptionFilterErrors,
  type EnvelopeTest,
  type SubscriptionFilter,
  type SubscriptionFilterError,
} from './subscription-filter';
