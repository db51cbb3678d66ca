import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { request } from 'undici';
import type { MessageStatus } from '@hookhub/contracts';
import {
  declaredMediaType,
  isObject,
  isoTime,
  JSON_MEDIA_TYPE,
  jsonBody,
  type JsonObject,
  objects,
  optionalString,
  requiredString,
  TEXT_MEDIA_TYPE,
} from '../callback-support';
import { MalformedCallbackError } from '../provider-adapter';
import type { CredentialSpec, Credentials, DeliveryStatusItem, IngestRequest, ParsedCallback, ProviderAdapter, Verification } from '../provider-adapter';

/** Regional SNS endpoints, including GovCloud and China (`.amazonaws.com.cn`). */
export const SNS_CERTIFICATE_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

export interface SesAdapterOptions {
  /** Hosts allowed to serve signing certificates and SubscribeURLs. */
  certificateHost: RegExp;
  /** Accept `http:` certificate and SubscribeURLs (tests with a loopback server only). */
  allowHttpCertificates: boolean;
  /** Downloads a certificate PEM; defaults to an undici GET with a timeout and a size cap. */
  fetchCertificate?: (url: string) => Promise<string>;
}

const CERTIFICATE_TIMEOUT_MS = 5_000;
/** SNS certificates are about 2 KB; anything much larger is not one. */
const CERTIFICATE_MAX_BYTES = 64 * 1024;
const CERTIFICATE_CACHE_SIZE = 100;

const MESSAGE_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;
type MessageType = (typeof MESSAGE_TYPES)[number];

/** Fields of the string to sign, in the order AWS documents (and its PHP validator uses). */
const SIGNED_KEYS: Readonly<Record<MessageType, readonly string[]>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};
const REQUIRED_KEYS = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Signature', 'SigningCertURL', 'SignatureVersion'];
const CONFIRMATION_KEYS = ['SubscribeURL', 'Token'];
const SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = { '1': 'sha1', '2': 'sha256' };

/** An SNS HTTP message whose required fields are known to be strings. */
interface SnsMessage {
  type: MessageType;
  fields: JsonObject;
  field(name: string): string;
}

function isMessageType(value: unknown): value is MessageType {
  return (MESSAGE_TYPES as readonly unknown[]).includes(value);
}

/** Reads the body as an SNS message, or says in a few words why it is not one. */
function snsMessage(rawBody: Buffer): SnsMessage | string {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return 'body is not JSON';
  }
  if (!isObject(body)) return 'body is not an SNS message';
  if (!isMessageType(body.Type)) return 'unsupported SNS message type';
  const required = body.Type === 'Notification' ? REQUIRED_KEYS : [...REQUIRED_KEYS, ...CONFIRMATION_KEYS];
  const missing = required.find((key) => typeof body[key] !== 'string' || body[key] === '');
  if (missing) return `${missing} is missing`;
  const fields = body;
  return { type: body.Type, fields, field: (name) => String(fields[name]) };
}

function stringToSign(message: SnsMessage): string {
  return SIGNED_KEYS[message.type]
    .filter((key) => typeof message.fields[key] === 'string')
    .map((key) => `${key}\n${String(message.fields[key])}\n`)
    .join('');
}

async function fetchCertificateWithUndici(url: string): Promise<string> {
  const res = await request(url, {
    method: 'GET',
    headersTimeout: CERTIFICATE_TIMEOUT_MS,
    bodyTimeout: CERTIFICATE_TIMEOUT_MS,
    signal: AbortSignal.timeout(CERTIFICATE_TIMEOUT_MS),
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`certificate download answered ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > CERTIFICATE_MAX_BYTES) {
      res.body.destroy();
      throw new Error('certificate download is too large');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Certificates by URL, least recently used evicted first. Holding the
 * promise lets concurrent callbacks share one download; failures are dropped
 * so the next callback tries again.
 */
class CertificateCache {
  private readonly entries = new Map<string, Promise<X509Certificate>>();

  constructor(
    private readonly fetch: (url: string) => Promise<string>,
    private readonly capacity: number,
  ) {}

  get(url: string): Promise<X509Certificate> {
    const cached = this.entries.get(url);
    if (cached) {
      this.entries.delete(url);
      this.entries.set(url, cached);
      return cached;
    }
    const loading = this.fetch(url).then((pem) => new X509Certificate(pem));
    loading.catch(() => {
      if (this.entries.get(url) === loading) this.entries.delete(url);
    });
    this.entries.set(url, loading);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return loading;
  }
}

function isCurrent(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

// ---------------------------------------------------------------------------
// SES events (event publishing `eventType`, classic notifications `notificationType`)

interface RecipientReport {
  recipient: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

interface SesEventReading {
  status: MessageStatus;
  /** Key of the event-specific object (`bounce`, `delivery`, …). */
  detailKey: string;
  recipients(detail: JsonObject, mail: JsonObject): RecipientReport[];
}

function destinations(_detail: JsonObject, mail: JsonObject): RecipientReport[] {
  const list = Array.isArray(mail.destination) ? mail.destination : [];
  return list.map((r) => ({ recipient: optionalString(r), errorCode: null, errorMessage: null }));
}

function withError(errorMessage: (detail: JsonObject) => string | null) {
  return (detail: JsonObject, mail: JsonObject): RecipientReport[] => destinations(detail, mail).map((r) => ({ ...r, errorMessage: errorMessage(detail) }));
}

/** DSN recipients (bounces, delays): per-recipient status code and diagnostic. */
function dsnRecipients(listKey: string, fallback: (detail: JsonObject) => string | null) {
  return (detail: JsonObject): RecipientReport[] =>
    objects(detail[listKey]).map((r) => ({
      recipient: optionalString(r.emailAddress),
      errorCode: optionalString(r.status),
      errorMessage: optionalString(r.diagnosticCode) ?? fallback(detail),
    }));
}

function bounceSummary(detail: JsonObject): string | null {
  return [optionalString(detail.bounceType), optionalString(detail.bounceSubType)].filter((s) => s !== null).join('/') || null;
}

const SES_EVENTS: Readonly<Record<string, SesEventReading>> = {
  Send: { status: 'sent', detailKey: 'send', recipients: destinations },
  Delivery: {
    status: 'delivered',
    detailKey: 'delivery',
    recipients: (detail) =>
      (Array.isArray(detail.recipients) ? detail.recipients : []).map((r) => ({ recipient: optionalString(r), errorCode: null, errorMessage: null })),
  },
  Bounce: { status: 'bounced', detailKey: 'bounce', recipients: dsnRecipients('bouncedRecipients', bounceSummary) },
  Complaint: {
    status: 'complained',
    detailKey: 'complaint',
    recipients: (detail) =>
      objects(detail.complainedRecipients).map((r) => ({
        recipient: optionalString(r.emailAddress),
        errorCode: null,
        errorMessage: optionalString(detail.complaintFeedbackType),
      })),
  },
  Reject: { status: 'rejected', detailKey: 'reject', recipients: withError((d) => optionalString(d.reason)) },
  DeliveryDelay: { status: 'deferred', detailKey: 'deliveryDelay', recipients: dsnRecipients('delayedRecipients', (d) => optionalString(d.delayType)) },
  Open: { status: 'opened', detailKey: 'open', recipients: destinations },
  Click: { status: 'clicked', detailKey: 'click', recipients: destinations },
  'Rendering Failure': { status: 'failed', detailKey: 'failure', recipients: withError((d) => optionalString(d.errorMessage)) },
};

/** A transient bounce is a soft failure SES has stopped retrying; the address may work later. */
function statusOf(reading: SesEventReading, detail: JsonObject): MessageStatus {
  return reading === SES_EVENTS.Bounce && detail.bounceType === 'Transient' ? 'deferred' : reading.status;
}

/** The first of `candidates` that reads as a time, else `fallback`. */
function firstTime(candidates: unknown[], fallback: Date): string {
  return candidates.reduceRight<Date>((later, candidate) => new Date(isoTime(candidate, later)), fallback).toISOString();
}

function sesEventItems(messageText: string, snsMessageId: string, snsTimestamp: unknown, receivedAt: Date): DeliveryStatusItem[] {
  let event: unknown;
  try {
    event = JSON.parse(messageText);
  } catch {
    throw new MalformedCallbackError('Message is not JSON');
  }
  if (!isObject(event)) throw new MalformedCallbackError('Message is not an SES event');
  const rawStatus = optionalString(event.eventType) ?? optionalString(event.notificationType);
  if (!rawStatus) throw new MalformedCallbackError('Message is not an SES event');
  // Received (inbound mail), AmazonSnsSubscriptionSucceeded, Subscription…: not about an outgoing message.
  const reading = SES_EVENTS[rawStatus === 'RenderingFailure' ? 'Rendering Failure' : rawStatus];
  if (!reading) return [];
  const mail = isObject(event.mail) ? event.mail : {};
  const providerMessageId = requiredString(mail.messageId, 'mail.messageId');
  const detail = isObject(event[reading.detailKey]) ? (event[reading.detailKey] as JsonObject) : {};
  const occurredAt = firstTime([detail.timestamp, mail.timestamp, snsTimestamp], receivedAt);
  const status = statusOf(reading, detail);
  const reports = reading.recipients(detail, mail);
  const list = reports.length > 0 ? reports : destinations(detail, mail);
  const perRecipient = list.length > 0 ? list : [{ recipient: null, errorCode: null, errorMessage: null }];
  return perRecipient.map((r) => ({
    kind: 'delivery_status',
    providerEventId: r.recipient === null ? snsMessageId : `${snsMessageId}:${r.recipient}`,
    providerMessageId,
    channel: 'email',
    status,
    rawStatus,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    occurredAt,
    recipient: r.recipient,
  }));
}

// ---------------------------------------------------------------------------

/**
 * Amazon SES sending events delivered by an SNS HTTP(S) subscription. SNS
 * signs with RSA over a canonical string of selected fields; the certificate
 * is downloaded from `SigningCertURL`, which must be on an SNS host.
 *
 * No maximum message age is enforced: SNS keeps retrying a failing endpoint
 * (delivery policies allow up to an hour and more), and a replayed message
 * carries its original MessageId, so the hub's de-duplication absorbs it.
 */
export class SesAdapter implements ProviderAdapter {
  readonly provider = 'ses' as const;
  readonly credentials: CredentialSpec = {
    topic_arn: {
      required: false,
      secret: false,
      description: 'ARN of the SNS topic SES publishes to; when set, messages from any other topic are refused.',
    },
  };

  private readonly certificates: CertificateCache;

  constructor(private readonly options: SesAdapterOptions = { certificateHost: SNS_CERTIFICATE_HOST, allowHttpCertificates: false }) {
    this.certificates = new CertificateCache(options.fetchCertificate ?? fetchCertificateWithUndici, CERTIFICATE_CACHE_SIZE);
  }

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    try {
      return await this.check(req, credentials);
    } catch {
      return { ok: false, reason: 'SNS signature could not be checked' };
    }
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    // SNS declares its JSON as text/plain unless the subscription's delivery policy sets headerContentType to application/json.
    declaredMediaType(req, [TEXT_MEDIA_TYPE, JSON_MEDIA_TYPE]);
    const body = jsonBody(req.rawBody);
    if (!isObject(body)) throw new MalformedCallbackError('body is not an SNS message');
    switch (body.Type) {
      case 'SubscriptionConfirmation':
        return { items: [], actions: [{ type: 'confirm_subscription', url: this.subscribeUrl(body.SubscribeURL) }] };
      case 'UnsubscribeConfirmation':
        return { items: [], actions: [] };
      case 'Notification': {
        const message = requiredString(body.Message, 'Message');
        const messageId = requiredString(body.MessageId, 'MessageId');
        return { items: sesEventItems(message, messageId, body.Timestamp, req.receivedAt), actions: [] };
      }
      default:
        throw new MalformedCallbackError('unsupported SNS message type');
    }
  }

  private async check(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const message = snsMessage(req.rawBody);
    if (typeof message === 'string') return { ok: false, reason: message };
    const headerType = req.headers['x-amz-sns-message-type'];
    if (headerType !== undefined && headerType !== message.type) return { ok: false, reason: 'x-amz-sns-message-type does not match Type' };
    const topicArn = credentials.topic_arn;
    if (topicArn && message.field('TopicArn') !== topicArn) return { ok: false, reason: 'TopicArn does not match' };
    const algorithm = SIGNATURE_ALGORITHMS[message.field('SignatureVersion')];
    if (!algorithm) return { ok: false, reason: 'unsupported SignatureVersion' };
    const certUrl = message.field('SigningCertURL');
    if (!this.isAllowedUrl(certUrl, true)) return { ok: false, reason: 'SigningCertURL is not an SNS certificate URL' };

    let certificate: X509Certificate;
    try {
      certificate = await this.certificates.get(certUrl);
    } catch {
      return { ok: false, reason: 'signing certificate unavailable', unavailable: true };
    }
    if (!isCurrent(certificate, new Date())) return { ok: false, reason: 'signing certificate is not valid now' };
    const signature = Buffer.from(message.field('Signature'), 'base64');
    const valid = verifySignature(algorithm, Buffer.from(stringToSign(message), 'utf8'), certificate.publicKey, signature);
    return valid ? { ok: true } : { ok: false, reason: 'signature mismatch' };
  }

  /** SubscribeURL is fetched by the hub, so it gets the same host rule as certificates. */
  private subscribeUrl(value: unknown): string {
    const url = requiredString(value, 'SubscribeURL');
    if (!this.isAllowedUrl(url, false)) throw new MalformedCallbackError('SubscribeURL is not an SNS URL');
    if (new URL(url).searchParams.get('Action') !== 'ConfirmSubscription') {
      throw new MalformedCallbackError('SubscribeURL is not a ConfirmSubscription URL');
    }
    return url;
  }

  private isAllowedUrl(value: string, certificate: boolean): boolean {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return false;
    }
    const schemeOk = url.protocol === 'https:' || (this.options.allowHttpCertificates && url.protocol === 'http:');
    const noCredentials = url.username === '' && url.password === '';
    const pathOk = !certificate || url.pathname.endsWith('.pem');
    return schemeOk && noCredentials && pathOk && this.options.certificateHost.test(url.hostname);
  }
}
