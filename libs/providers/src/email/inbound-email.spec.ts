import { createHash } from 'node:crypto';
import { SAMPLE_REPLY, SAMPLE_REPLY_HEADER_PAIRS, SAMPLE_REPLY_HEADERS, SAMPLE_REPLY_MIME } from '@hookhub/testing';
import { MalformedCallbackError } from '../provider-adapter';
import { headerBlockFromPairs, inboundEmailFromFields, inboundEmailFromMime, type InboundEmailFields } from './inbound-email';

const RECEIVED = new Date('2025-03-04T09:20:00.000Z');

const SAMPLE_ITEM = {
  kind: 'inbound_email',
  providerEventId: SAMPLE_REPLY.messageId,
  messageId: SAMPLE_REPLY.messageId,
  inReplyTo: SAMPLE_REPLY.inReplyTo,
  references: [...SAMPLE_REPLY.references],
  from: SAMPLE_REPLY.fromText,
  to: [...SAMPLE_REPLY.to],
  cc: [...SAMPLE_REPLY.cc],
  subject: SAMPLE_REPLY.subject,
  text: SAMPLE_REPLY.text,
  html: SAMPLE_REPLY.html,
  date: SAMPLE_REPLY.date,
  attachments: [{ filename: 'receipt.pdf', contentType: 'application/pdf', size: SAMPLE_REPLY.attachment.content.length }],
};

const mime = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');

describe('inboundEmailFromMime', () => {
  it('reads the sample reply', async () => {
    expect(await inboundEmailFromMime(SAMPLE_REPLY_MIME, RECEIVED)).toEqual(SAMPLE_ITEM);
  });

  it('falls back to a digest of the raw message and the receipt time', async () => {
    const raw = mime(['From: a@customer.example', 'To: b@acme.example.com', 'Subject: hi', '', 'hello']);
    expect(await inboundEmailFromMime(raw, RECEIVED)).toEqual({
      kind: 'inbound_email',
      providerEventId: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
      messageId: null,
      inReplyTo: null,
      references: [],
      from: 'a@customer.example',
      to: ['b@acme.example.com'],
      cc: [],
      subject: 'hi',
      text: 'hello',
      html: null,
      date: RECEIVED.toISOString(),
      attachments: [],
    });
  });

  it('ignores an unreadable Date, lists a single reference, flattens address groups', async () => {
    const raw = mime([
      'From: a@customer.example',
      'To: team: x@acme.example.com, y@acme.example.com;, z@acme.example.com',
      'Date: someday soon',
      'References: <only@acme.example.com>',
      '',
      'hello',
    ]);
    expect(await inboundEmailFromMime(raw, RECEIVED)).toMatchObject({
      date: RECEIVED.toISOString(),
      references: ['<only@acme.example.com>'],
      to: ['x@acme.example.com', 'y@acme.example.com', 'z@acme.example.com'],
    });
  });

  it('rejects an empty message', async () => {
    await expect(inboundEmailFromMime(Buffer.alloc(0), RECEIVED)).rejects.toThrow(MalformedCallbackError);
  });
});

describe('inboundEmailFromFields', () => {
  const fields = (overrides: Partial<InboundEmailFields> = {}): InboundEmailFields => ({
    headers: SAMPLE_REPLY_HEADERS,
    from: SAMPLE_REPLY.fromHeader,
    to: SAMPLE_REPLY.to[0],
    cc: SAMPLE_REPLY.cc.join(', '),
    subject: SAMPLE_REPLY.subject,
    text: SAMPLE_REPLY.text,
    html: SAMPLE_REPLY.html,
    attachments: SAMPLE_ITEM.attachments,
    ...overrides,
  });

  it('reads the same facts as the raw message', async () => {
    expect(await inboundEmailFromFields(fields(), RECEIVED)).toEqual(SAMPLE_ITEM);
  });

  it('prefers the header block over the provider fields', async () => {
    const item = await inboundEmailFromFields(fields({ subject: 'something else', from: 'x@y.z' }), RECEIVED);
    expect(item).toMatchObject({ subject: SAMPLE_REPLY.subject, from: SAMPLE_REPLY.fromText });
  });

  it('does not let a field value smuggle in a header', async () => {
    const item = await inboundEmailFromFields(
      fields({ headers: '', from: 'a@customer.example\r\nMessage-ID: <forged@acme.example.com>', subject: 'hi' }),
      RECEIVED,
    );
    expect(item.messageId).toBeNull();
  });

  it('gives the same digest id for the same content', async () => {
    const noId = fields({ headers: 'Subject: hi' });
    const a = await inboundEmailFromFields(noId, RECEIVED);
    const b = await inboundEmailFromFields(noId, new Date(RECEIVED.getTime() + 60_000));
    const c = await inboundEmailFromFields({ ...noId, text: 'other' }, RECEIVED);
    expect(a.providerEventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.providerEventId).toBe(a.providerEventId);
    expect(c.providerEventId).not.toBe(a.providerEventId);
  });
});

describe('headerBlockFromPairs', () => {
  it('rebuilds a header block that reads like the original', async () => {
    const block = headerBlockFromPairs(SAMPLE_REPLY_HEADER_PAIRS);
    expect(await inboundEmailFromFields({ ...emptyFields(), headers: block }, RECEIVED)).toMatchObject({
      messageId: SAMPLE_REPLY.messageId,
      references: [...SAMPLE_REPLY.references],
      cc: [...SAMPLE_REPLY.cc],
    });
  });

  it('skips entries that are not name/value pairs', () => {
    expect(headerBlockFromPairs([['Subject', 'hi'], ['broken'], 42, ['To', 7]])).toBe('Subject: hi');
    expect(headerBlockFromPairs({ Subject: 'hi' })).toBe('');
  });
});

function emptyFields(): InboundEmailFields {
  return { headers: '', from: null, to: null, cc: null, subject: null, text: null, html: null, attachments: [] };
}
