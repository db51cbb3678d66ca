import type { KeyObject } from 'node:crypto';
import { SAMPLE_REPLY, SAMPLE_REPLY_HEADERS, SAMPLE_REPLY_MIME } from './sample-mail';
import { sendgridSignatureHeaders } from './sendgrid';
import type { SignedRequest } from './signed-request';

export interface SendgridInboundFile {
  fieldName: string;
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface SendgridInboundOptions {
  /** The Destination URL without its user info: SendGrid moves that into the Authorization header. */
  url: string;
  username: string;
  password: string;
  /** When set, signs like a Parse security policy with signature verification. */
  privateKey?: KeyObject;
  /** Unix seconds for the signature; defaults to now. */
  timestamp?: number;
}

/** An Inbound Parse post: multipart/form-data, Basic auth from the URL, optionally signed. */
export async function sendgridInboundRequest(
  fields: Readonly<Record<string, string>>,
  files: readonly SendgridInboundFile[],
  options: SendgridInboundOptions,
): Promise<SignedRequest> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const f of files) form.append(f.fieldName, new Blob([f.content], { type: f.contentType }), f.filename);
  // The platform's own multipart encoder, so the boundary handling is not ours.
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  const auth = Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64');
  return {
    method: 'POST',
    url: options.url,
    headers: {
      'content-type': encoded.headers.get('content-type') ?? '',
      authorization: `Basic ${auth}`,
      'user-agent': 'Sendlib/1.0',
      ...(options.privateKey ? sendgridSignatureHeaders(body, options.privateKey, options.timestamp) : {}),
    },
    body,
  };
}

const ENVELOPE = JSON.stringify({ to: [SAMPLE_REPLY.to[0]], from: SAMPLE_REPLY.fromAddress });

/** The sample reply as posted with "POST the raw, full MIME message" on. */
export function sampleSendgridRawFields(): Record<string, string> {
  return {
    dkim: '{@customer.example : pass}',
    email: SAMPLE_REPLY_MIME.toString('utf8'),
    to: SAMPLE_REPLY.to[0],
    from: SAMPLE_REPLY.fromHeader,
    sender_ip: '192.0.2.10',
    envelope: ENVELOPE,
    subject: SAMPLE_REPLY.subject,
    charsets: JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8' }),
    SPF: 'pass',
  };
}

/** The sample reply as posted in the default (parsed) mode, with its attachment as `attachment1`. */
export function sampleSendgridParsedFields(): Record<string, string> {
  const { filename, contentType } = SAMPLE_REPLY.attachment;
  return {
    headers: SAMPLE_REPLY_HEADERS,
    dkim: '{@customer.example : pass}',
    'content-ids': '{}',
    to: SAMPLE_REPLY.to[0],
    cc: SAMPLE_REPLY.cc.join(', '),
    text: SAMPLE_REPLY.text,
    html: SAMPLE_REPLY.html,
    from: SAMPLE_REPLY.fromHeader,
    sender_ip: '192.0.2.10',
    envelope: ENVELOPE,
    attachments: '1',
    subject: SAMPLE_REPLY.subject,
    'attachment-info': JSON.stringify({ attachment1: { filename, name: filename, type: contentType } }),
    charsets: JSON.stringify({ to: 'UTF-8', cc: 'UTF-8', html: 'UTF-8', subject: 'UTF-8', from: 'UTF-8', text: 'UTF-8' }),
    SPF: 'pass',
  };
}

export function sampleSendgridParsedFiles(): SendgridInboundFile[] {
  const { filename, contentType, content } = SAMPLE_REPLY.attachment;
  return [{ fieldName: 'attachment1', filename, contentType, content }];
}
