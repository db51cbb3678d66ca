// The adapter contract and what it yields: ingest receives, verifies and normalises callbacks through it.
export {
  MalformedCallbackError,
  UnsupportedMediaTypeError,
  type AttachmentInfo,
  type DeliveryStatusItem,
  type InboundEmailItem,
  type IngestRequest,
  type MessageChannel,
  type NormalisedItem,
  type ParsedCallback,
  type ProviderAction,
  type ProviderAdapter,
  type ProviderReply,
  type Verification,
} from './provider-adapter';
// Provider names and credential specs: the admin API's connection DTOs and service, and ingest.
export { PROVIDER_NAMES, type CredentialField, type Credentials, type CredentialSpec, type ProviderName } from './provider-adapter';
// The adapters, built by ingest's provider registry; SES's certificate host is also provider-ingest's configuration default.
export { GupshupAdapter } from './gupshup/gupshup.adapter';
export { MailgunAdapter } from './mailgun/mailgun.adapter';
export { MessagebirdAdapter } from './messagebird/messagebird.adapter';
export { MetaWhatsappAdapter } from './meta/meta-whatsapp.adapter';
export { PlivoAdapter } from './plivo/plivo.adapter';
export { SendgridAdapter } from './sendgrid/sendgrid.adapter';
export { SendgridInboundAdapter } from './sendgrid-inbound/sendgrid-inbound.adapter';
export { SesAdapter, SNS_CERTIFICATE_HOST, type SesAdapterOptions } from './ses/ses.adapter';
export { TwilioAdapter, type TwilioProvider } from './twilio/twilio.adapter';
export { VonageAdapter } from './vonage/vonage.adapter';
// For tests: signatures computed the way the providers compute them, and SendGrid's batch limit.
export { plivoV3SignedString } from './plivo/plivo.adapter';
export { SENDGRID_MAX_BATCH_BYTES } from './sendgrid/sendgrid.adapter';
export { twilioSignature } from './twilio/twilio.adapter';
export { vonageSignature, type VonageSignatureMethod } from './vonage/vonage.adapter';
