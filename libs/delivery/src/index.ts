// The dispatcher's delivery core; apps/dispatcher wires its pipelines to the consumers.
export { DeliveryModule } from './delivery.module';
export { DeliveryConfig } from './delivery.settings';
export { DispatchPipeline } from './dispatch-pipeline';
export { RetryPipeline } from './retry-pipeline';
export { RetryScheduler } from './retry-scheduler';
// Stages and services that end-to-end tests drive directly inside a running dispatcher.
export { DeliveryAdmission } from './admission';
export { AttemptSender, type DeliveryJob } from './attempt-sender';
export { AttemptSettlement } from './attempt-settlement';
export { DisableNotifier } from './disable-notifier';
export { EventPayloads } from './payload';
// What the admin API uses: verification, test pings, redelivery.
export { EndpointToolsModule } from './endpoint-tools.module';
export { EndpointVerifier, type VerificationResult } from './endpoint-verifier';
export { RedeliveryService } from './redelivery.service';
export { TestPing } from './test-ping';
export { WebhookSender, type SendResult } from './webhook-sender';
