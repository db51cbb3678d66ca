/**
 * A customer's reply to a ticket notification, with one attachment, as an MTA
 * hands it to SendGrid or Mailgun. Providers post it raw (SendGrid raw mode,
 * Mailgun `body-mime`) or taken apart into fields; the facts below are what
 * every variant must be read back as.
 */

const BOUNDARY_MIXED = '----=_mixed_7f94629';
const BOUNDARY_ALT = '----=_alt_7f94629';

const ATTACHMENT_CONTENT = Buffer.from('%PDF-1.4\n% receipt 53249\n%%EOF\n', 'utf8');

export const SAMPLE_REPLY = {
  messageId: '<CAF7k2=reply-53249@mail.customer.example>',
  inReplyTo: '<ticket-53249.msg-1@acme.example.com>',
  references: ['<ticket-53249@acme.example.com>', '<ticket-53249.msg-1@acme.example.com>'],
  fromHeader: 'Zoë Customer <customer@customer.example>',
  /** How the MIME parser renders the From header. */
  fromText: '"Zoë Customer" <customer@customer.example>',
  fromAddress: 'customer@customer.example',
  to: ['support+53249@acme.example.com'],
  cc: ['billing@customer.example', 'boss@customer.example'],
  subject: 'Re: Your ticket #53249 — receipt',
  text: 'Thanks, that fixed it. Receipt attached.',
  html: '<p>Thanks, that fixed it. Receipt attached.</p>',
  date: '2025-03-04T09:15:00.000Z',
  attachment: { filename: 'receipt.pdf', contentType: 'application/pdf', content: ATTACHMENT_CONTENT },
} as const;

/** The header block exactly as it appears in the message (SendGrid's `headers` field carries this). */
export const SAMPLE_REPLY_HEADERS = [
  'Received: from mail.customer.example (mail.customer.example [192.0.2.10]) by mx.example.net; Tue, 04 Mar 2025 09:15:02 +0000',
  'MIME-Version: 1.0',
  `From: =?UTF-8?Q?Zo=C3=AB_Customer?= <${SAMPLE_REPLY.fromAddress}>`,
  `To: ${SAMPLE_REPLY.to[0]}`,
  `Cc: billing@customer.example,\r\n boss@customer.example`,
  'Subject: =?UTF-8?Q?Re:_Your_ticket_#53249_=E2=80=94_receipt?=',
  'Date: Tue, 04 Mar 2025 10:15:00 +0100',
  `Message-ID: ${SAMPLE_REPLY.messageId}`,
  `In-Reply-To: ${SAMPLE_REPLY.inReplyTo}`,
  `References: ${SAMPLE_REPLY.references[0]}\r\n ${SAMPLE_REPLY.references[1]}`,
  `Content-Type: multipart/mixed; boundary="${BOUNDARY_MIXED}"`,
].join('\r\n');

/** Header name/value pairs, unfolded, in order (Mailgun's `message-headers`). */
export const SAMPLE_REPLY_HEADER_PAIRS: [string, string][] = SAMPLE_REPLY_HEADERS.replace(/\r\n[ \t]+/g, ' ')
  .split('\r\n')
  .map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });

export const SAMPLE_REPLY_MIME: Buffer = Buffer.from(
  [
    SAMPLE_REPLY_HEADERS,
    '',
    'This is a multi-part message in MIME format.',
    `--${BOUNDARY_MIXED}`,
    `Content-Type: multipart/alternative; boundary="${BOUNDARY_ALT}"`,
    '',
    `--${BOUNDARY_ALT}`,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    SAMPLE_REPLY.text,
    `--${BOUNDARY_ALT}`,
    'Content-Type: text/html; charset=UTF-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    SAMPLE_REPLY.html,
    `--${BOUNDARY_ALT}--`,
    '',
    `--${BOUNDARY_MIXED}`,
    `Content-Type: ${SAMPLE_REPLY.attachment.contentType}; name="${SAMPLE_REPLY.attachment.filename}"`,
    `Content-Disposition: attachment; filename="${SAMPLE_REPLY.attachment.filename}"`,
    'Content-Transfer-Encoding: base64',
    '',
    ATTACHMENT_CONTENT.toString('base64'),
    `--${BOUNDARY_MIXED}--`,
    '',
  ].join('\r\n'),
  'utf8',
);
