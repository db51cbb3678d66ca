// The dispatcher's delivery core; apps/dispatcher wires its pipelines to the consumers.
export { DeliveryModule } from './delivery.module';
export { DeliveryConfig } from './delivery.settings';
export { DispatchPipeline } from './dispatch-pipeline';
export { RetryPipeline } from './retry-pipeline';
export { RetryScheduler } from './retry-scheduler';
export { RateLine } from './rate-line';
export { EventsAudit, type AuditPass } from './events-audit';
// Stages and services that end-to-end tests drive directly inside a running dispatcher, with the types their methods take and return.
export { DeliveryAdmission, type Admission, type AdmissionCandidate } from './admission';
export type { SubscriptionSlot } from './subscription-load';
export { AttemptSender, type DeliveryJob, type Sent } from './attempt-sender';
export { AttemptSettlement, type AttemptOutcome } from './attempt-settlement';
export { DisableNotifier } from './disable-notifier';
export { EventPayloads, type PayloadFormatName } from './payload';
// What the admin API uses: verification, test pings, redelivery.
export { EndpointToolsModule } from './endpoint-tools.module';
export { EndpointVerifier, type VerificationResult } from './endpoint-verifier';
export { RedeliveryService } from './redelivery.service';
export { senderRefusal } from './sender-permissions';
export { TestPing } from './test-ping';
export { sentRequestHeaders } from './webhook-request';
export { WebhookSender, type OutgoingRequest, type SendResult, type SenderOptions } from './webhook-sender';
