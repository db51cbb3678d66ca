import { createHmac, randomBytes } from 'node:crypto';
import { SAMPLE_REPLY, SAMPLE_REPLY_HEADER_PAIRS, SAMPLE_REPLY_MIME } from './sample-mail';
import type { SignedRequest } from './signed-request';

export interface MailgunSignature {
  timestamp: string;
  token: string;
  signature: string;
}

export interface MailgunSignOptions {
  url: string;
  signingKey: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  /** Defaults to 50 random hex characters, like Mailgun's. */
  token?: string;
}

export interface MailgunFile {
  fieldName: string;
  filename: string;
  contentType: string;
  content: Buffer;
}

/** Mailgun's signature block: hex HMAC-SHA256(signing key, timestamp + token). */
export function mailgunSignature(signingKey: string, options: { timestamp?: number; token?: string } = {}): MailgunSignature {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const token = options.token ?? randomBytes(25).toString('hex');
  return {
    timestamp,
    token,
    signature: createHmac('sha256', signingKey)
      .update(timestamp + token)
      .digest('hex'),
  };
}

/** An event webhook post: `{ signature, "event-data" }` as JSON. */
export function signedMailgunEvent(eventData: Readonly<Record<string, unknown>>, options: MailgunSignOptions): SignedRequest {
  const body = Buffer.from(JSON.stringify({ signature: mailgunSignature(options.signingKey, options), 'event-data': eventData }));
  return {
    method: 'POST',
    url: options.url,
    headers: { 'content-type': 'application/json', 'user-agent': 'mailgun/treq-16.12.0' },
    body,
  };
}

/**
 * A Routes forward() post: URL-encoded without attachments, multipart with
 * them (as Mailgun does) or when `multipart` is set, the signature fields
 * added to the message's fields.
 */
export async function signedMailgunRoute(
  fields: Readonly<Record<string, string>>,
  options: MailgunSignOptions & { files?: readonly MailgunFile[]; multipart?: boolean },
): Promise<SignedRequest> {
  const all = { ...fields, ...mailgunSignature(options.signingKey, options) };
  const files = options.files ?? [];
  if (files.length === 0 && !options.multipart) {
    return {
      method: 'POST',
      url: options.url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams(all).toString(), 'utf8'),
    };
  }
  const form = new FormData();
  for (const [name, value] of Object.entries(all)) form.append(name, value);
  for (const f of files) form.append(f.fieldName, new Blob([f.content], { type: f.contentType }), f.filename);
  // The platform's own multipart encoder, so the boundary handling is not ours.
  const encoded = new Response(form);
  return {
    method: 'POST',
    url: options.url,
    headers: { 'content-type': encoded.headers.get('content-type') ?? '' },
    body: Buffer.from(await encoded.arrayBuffer()),
  };
}

/** The parsed fields Mailgun posts for the sample reply (forward to a URL). */
export function sampleMailgunRouteFields(): Record<string, string> {
  const fields: Record<string, string> = {
    recipient: SAMPLE_REPLY.to[0],
    sender: SAMPLE_REPLY.fromAddress,
    from: SAMPLE_REPLY.fromHeader,
    subject: SAMPLE_REPLY.subject,
    'body-plain': SAMPLE_REPLY.text,
    'stripped-text': SAMPLE_REPLY.text.trim(),
    'stripped-signature': '',
    'body-html': SAMPLE_REPLY.html,
    'stripped-html': SAMPLE_REPLY.html,
    'attachment-count': '1',
    'message-headers': JSON.stringify(SAMPLE_REPLY_HEADER_PAIRS),
    'content-id-map': '{}',
  };
  // Mailgun also posts each MIME header as a field of its own.
  for (const [name, value] of SAMPLE_REPLY_HEADER_PAIRS) fields[name] = value;
  return fields;
}

export function sampleMailgunRouteFiles(): MailgunFile[] {
  const { filename, contentType, content } = SAMPLE_REPLY.attachment;
  return [{ fieldName: 'attachment-1', filename, contentType, content }];
}

/** The fields of a forward() to a URL ending in "mime": the message untouched in `body-mime`. */
export function sampleMailgunMimeFields(): Record<string, string> {
  return {
    recipient: SAMPLE_REPLY.to[0],
    sender: SAMPLE_REPLY.fromAddress,
    from: SAMPLE_REPLY.fromHeader,
    subject: SAMPLE_REPLY.subject,
    'body-mime': SAMPLE_REPLY_MIME.toString('utf8'),
  };
}

/** A realistic `event-data` for one message. */
export function mailgunEventData(event: string, overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    id: `${event}-G9Bn5sl1TC6nu79C8C0bwg`,
    timestamp: 1741079700.123456,
    'log-level': 'info',
    event,
    recipient: 'customer@customer.example',
    'recipient-domain': 'customer.example',
    tags: ['ticket-reply'],
    envelope: { sender: 'support@acme.example.com', transport: 'smtp', targets: 'customer@customer.example' },
    message: {
      headers: {
        to: 'customer@customer.example',
        'message-id': '20250304091500.1.ABCDEF@acme.example.com',
        from: 'support@acme.example.com',
        subject: 'Your ticket #53249',
      },
      attachments: [],
      size: 1024,
    },
    'user-variables': {},
    ...overrides,
  };
}
