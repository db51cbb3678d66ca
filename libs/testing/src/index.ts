// Test-only helpers shared by the lib specs and test/: never imported by apps/ or by a lib's production code.
// Published events for the integration and fault suites.
export { anEnvelope } from './envelopes';
// Rate-limit checks: the rate budget's spec and the rate-limit end-to-end suite.
export { mostInWindow } from './rate-windows';
// Provider callbacks signed as each provider signs them: the adapters' specs and the provider-ingest end-to-end and bad-input suites.
export type { SignedRequest } from './provider-signers/signed-request';
export { gupshupMessageEvent, gupshupRequest, type GupshupMessageEventInput } from './provider-signers/gupshup';
export {
  mailgunEventData,
  sampleMailgunMimeFields,
  sampleMailgunRouteFields,
  sampleMailgunRouteFiles,
  signedMailgunEvent,
  signedMailgunRoute,
  type MailgunFile,
  type MailgunSignOptions,
} from './provider-signers/mailgun';
export {
  mintMessagebirdJwt,
  signMessagebirdJwt,
  signMessagebirdLegacy,
  type MessagebirdCredentials,
  type MessagebirdSignOptions,
} from './provider-signers/messagebird';
export { metaHandshakeRequest, metaJson, metaStatusPayload, metaWebhookRequest, type MetaStatus } from './provider-signers/meta';
export { signPlivoV2, signPlivoV3, type PlivoCredentials, type PlivoSignOptions } from './provider-signers/plivo';
export { sendgridEvent, sendgridKeyPair, signedSendgridEvents, type SendgridEventsOptions, type SendgridKeyPair } from './provider-signers/sendgrid';
export {
  sampleSendgridParsedFields,
  sampleSendgridParsedFiles,
  sampleSendgridRawFields,
  sendgridInboundRequest,
  type SendgridInboundFile,
  type SendgridInboundOptions,
} from './provider-signers/sendgrid-inbound';
export {
  SES_BOUNCE_EVENT,
  SES_BOUNCE_NOTIFICATION,
  SES_DELIVERY_NOTIFICATION,
  snsNotification,
  snsStringToSign,
  snsSubscriptionConfirmation,
  startSnsSigner,
  type SignedSnsMessage,
  type SnsSigner,
  type SnsSignerOptions,
  type SnsSignOptions,
  type UnsignedSnsMessage,
} from './provider-signers/ses';
export { signTwilioForm, signTwilioJson, type TwilioCredentials } from './provider-signers/twilio';
export { signVonageReceipt, type VonageCredentials, type VonageMethod, type VonageSignOptions } from './provider-signers/vonage';
// A sample inbound reply as MIME, headers and parts: the inbound-email and mail adapters' specs.
export { SAMPLE_REPLY, SAMPLE_REPLY_HEADER_PAIRS, SAMPLE_REPLY_HEADERS, SAMPLE_REPLY_MIME } from './provider-signers/sample-mail';
