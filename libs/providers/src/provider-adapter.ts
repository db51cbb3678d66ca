import type { MessageStatus } from '@hookhub/contracts';

/** Every provider a tenant can connect; the value is the `<provider>` segment of `/ingest/<provider>/<connectionId>`. */
export const PROVIDER_NAMES = [
  'sendgrid',
  'sendgrid_inbound',
  'twilio_sms',
  'twilio_whatsapp',
  'meta_whatsapp',
  'messagebird',
  'ses',
  'gupshup',
  'vonage',
  'plivo',
  'mailgun',
] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/**
 * A callback as it reached us, before anything was parsed. Signatures are
 * checked over `rawBody` and `url`, never over a re-serialised body.
 */
export interface IngestRequest {
  method: 'GET' | 'POST';
  /**
   * The absolute URL the provider called, as the provider sees it: the
   * connection's configured public URL (or the proxy-forwarded one) plus this
   * request's query string exactly as received.
   */
  url: string;
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  receivedAt: Date;
}

/** A connection's credentials: the provider-specific fields of `CredentialSpec`, all strings. */
export type Credentials = Readonly<Record<string, string>>;

export interface CredentialField {
  required: boolean;
  /** Secrets are stored encrypted and never returned by the API. */
  secret: boolean;
  description: string;
  /** Allowed values, when the field is a choice (e.g. a hash algorithm). */
  choices?: readonly string[];
}
export type CredentialSpec = Readonly<Record<string, CredentialField>>;

/**
 * `unavailable`: the check could not be made (the provider's certificate
 * could not be fetched); answered 503 so the provider retries, instead of a
 * 401 it would take as final.
 */
export type Verification = { ok: true } | { ok: false; reason: string; unavailable?: boolean };

export type MessageChannel = 'email' | 'sms' | 'whatsapp';

/** One delivery-status report about one outgoing message. */
export interface DeliveryStatusItem {
  kind: 'delivery_status';
  /**
   * Stable id of this report at the provider (e.g. SendGrid `sg_event_id`, SNS
   * `MessageId`), or a composition of message id + status + time where the
   * provider has none. Equal reports must give equal ids: the event id is
   * derived from it, which is what makes duplicates collapse.
   */
  providerEventId: string;
  providerMessageId: string;
  channel: MessageChannel;
  status: MessageStatus;
  rawStatus: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** ISO 8601; the provider's own time when it gives one, else the receipt time. */
  occurredAt: string;
  recipient: string | null;
}

export interface AttachmentInfo {
  filename: string | null;
  contentType: string;
  size: number;
}

/** An email that arrived at a tenant's inbound address. */
export interface InboundEmailItem {
  kind: 'inbound_email';
  /** The Message-ID header when present, else a digest of the message. */
  providerEventId: string;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: string | null;
  to: string[];
  cc: string[];
  subject: string | null;
  text: string | null;
  html: string | null;
  /** ISO 8601 from the Date header, else the receipt time. */
  date: string;
  attachments: AttachmentInfo[];
}

export type NormalisedItem = DeliveryStatusItem | InboundEmailItem;

/** Something the hub must do for the provider besides publishing events. */
export type ProviderAction =
  /** SNS: confirm the subscription by fetching SubscribeURL. */
  { type: 'confirm_subscription'; url: string };

export interface ParsedCallback {
  items: NormalisedItem[];
  actions: ProviderAction[];
}

/** A reply the provider requires verbatim (handshakes), instead of the default empty 200. */
export interface ProviderReply {
  status: number;
  contentType: string;
  body: string;
}

/** The request is not a well-formed callback of this provider: answered 400, nothing stored. */
export class MalformedCallbackError extends Error {
  override readonly name: string = 'MalformedCallbackError';
}

/**
 * The declared Content-Type is not one this provider sends for this kind of
 * callback, so the body cannot be read as what it claims to be: answered 415,
 * nothing stored. A subclass, so code that only knows "unreadable" still refuses it.
 */
export class UnsupportedMediaTypeError extends MalformedCallbackError {
  override readonly name = 'UnsupportedMediaTypeError';
}

/**
 * What the hub knows about one provider: how to check that a request really
 * comes from it and how to read its callbacks. Adapters are pure apart from
 * fetching what the provider tells us to fetch (SNS certificates), and never
 * log credentials.
 */
export interface ProviderAdapter {
  readonly provider: ProviderName;
  readonly credentials: CredentialSpec;
  /** The provider delivers callbacks as GET requests too: the hub then verifies and parses them like POSTs. */
  readonly acceptsGet?: boolean;
  /**
   * Answers a GET handshake (Meta's `hub.challenge`); `null` when this provider
   * has none, which the hub answers 405.
   */
  handshake?(req: IngestRequest, credentials: Credentials): ProviderReply | null;
  verify(req: IngestRequest, credentials: Credentials): Promise<Verification>;
  /**
   * Reads a verified callback according to its declared Content-Type (never by
   * sniffing the bytes); throws `UnsupportedMediaTypeError` when that type is
   * not one the provider sends, `MalformedCallbackError` when the body cannot be read.
   */
  parse(req: IngestRequest): Promise<ParsedCallback>;
}
