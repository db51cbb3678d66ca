// The event envelope and its one serialisation: every app and lib that publishes, stores, signs or sends an event.
export { canonicalEnvelope, MODEL_TYPES, serializeEnvelope, type EventEnvelope, type Model, type ModelType } from './envelope';
// The event catalogue: the admin API validates, lists and documents it; ingest emits message statuses; providers map to them.
export {
  EVENT_TYPE_DEFINITIONS,
  EVENT_TYPES,
  eventTypeDefinition,
  MESSAGE_STATUSES,
  type EventTypeDefinition,
  type MessageStatus,
} from './catalogue/event-types';
export { envelopeSchema, EVENT_ID_PATTERN } from './catalogue/envelope-schema';
export { EventValidator, type EventValidationError, type EventValidationResult } from './catalogue/event-validator';
// Event-type patterns: the admin API's DTOs and checks, delivery's matcher and persistence's matching SQL.
export {
  EVENT_TYPE_PATTERN_SYNTAX,
  EVENT_TYPE_SYNTAX,
  eventTypeMatches,
  isKnownEventTypePattern,
  patternsMatchingEventType,
} from './catalogue/event-type-pattern';
// NATS subject names and the retries stream's job: jetstream and delivery.
export { retryMsgId, SubjectNames, type RetryJob } from './subjects';
// Thin notifications and a resource's change status: event-store records them, delivery sends them.
export { changeStatusFor, parentResource, toThinNotification, type ChangeStatus, type ThinNotification } from './thin-notification';
