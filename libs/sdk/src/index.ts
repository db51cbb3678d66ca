// @hookhub/sdk: the API client, webhook verification and the event-type catalogue. The JetStream publisher is
// @hookhub/sdk/jetstream (needs `nats`), the NestJS module @hookhub/sdk/nestjs (needs @nestjs/common).
export {
  HookhubClient,
  type CallOptions,
  type EventTypeList,
  type HookhubApi,
  type HookhubClientOptions,
  type PublishBatchReceipt,
  type PublishEventInput,
  type PublishReceipt,
} from './client';
export { type RetryOptions } from './retrying-fetch';
export {
  HookhubError,
  HookhubHttpError,
  HookhubNetworkError,
  HookhubProblemError,
  HookhubTimeoutError,
  HookhubValidationError,
  WebhookVerificationError,
  type ProblemDocument,
  type ProblemFieldError,
  type WebhookVerificationErrorCode,
} from './errors';
export { verifyWebhook, type SignatureScheme, type VerifiedWebhook, type VerifyWebhookOptions, type WebhookHeaders } from './verify';
export { EventTypeCatalogue, type CatalogueEventType, type CatalogueVersion, type EventTypeCatalogueOptions, type ResolvedEventType } from './catalogue';
export { canonicalEnvelope, ENVELOPE_FIELDS, serializeEnvelope, type EventEnvelope } from './envelope';
export type { components, operations, paths } from './generated/hookhub-api';
