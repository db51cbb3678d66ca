import { createHash } from 'node:crypto';
import { EventWebhook } from '@sendgrid/eventwebhook';
import {
  SAMPLE_REPLY,
  SAMPLE_REPLY_MIME,
  sendgridKeyPair,
  type SendgridKeyPair,
  sampleSendgridParsedFields,
  sampleSendgridParsedFiles,
  sampleSendgridRawFields,
  sendgridInboundRequest,
  type SignedRequest,
} from '@hookhub/testing';
import { MalformedCallbackError, type IngestRequest } from '../provider-adapter';
import { SendgridInboundAdapter } from './sendgrid-inbound.adapter';

const URL = 'https://hooks.example.com/ingest/sendgrid_inbound/3b5cf468-c858-404b-9e53-630e3df9d74a';
const NOW = new Date('2025-03-04T09:20:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const AUTH = { username: 'parse', password: 's3cret-pa:ss' };

function ingest(signed: SignedRequest, receivedAt = NOW): IngestRequest {
  return { method: signed.method, url: signed.url, headers: signed.headers, rawBody: signed.body, receivedAt };
}

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

describe('SendgridInboundAdapter', () => {
  const adapter = new SendgridInboundAdapter();
  let keys: SendgridKeyPair;

  beforeAll(() => {
    keys = sendgridKeyPair();
  });

  const raw = (options: Partial<Parameters<typeof sendgridInboundRequest>[2]> = {}) =>
    sendgridInboundRequest(sampleSendgridRawFields(), [], { url: URL, ...AUTH, ...options });

  it('declares Basic auth credentials and an optional public key', () => {
    expect(adapter.provider).toBe('sendgrid_inbound');
    expect(adapter.credentials).toEqual({
      username: expect.objectContaining({ required: true, secret: false }),
      password: expect.objectContaining({ required: true, secret: true }),
      public_key: expect.objectContaining({ required: false, secret: false }),
    });
  });

  describe('verify with Basic auth', () => {
    it('accepts the configured user and password', async () => {
      await expect(adapter.verify(ingest(await raw()), AUTH)).resolves.toEqual({ ok: true });
    });

    it.each([
      ['a wrong password', { password: 'guess' }, 'Basic auth credentials do not match'],
      ['a wrong user', { username: 'admin' }, 'Basic auth credentials do not match'],
    ])('rejects %s', async (_name, override, reason) => {
      await expect(adapter.verify(ingest(await raw(override)), AUTH)).resolves.toEqual({ ok: false, reason });
    });

    it.each([
      ['a missing header', undefined, 'authorization header is missing'],
      ['a Bearer token', 'Bearer abc', 'authorization is not Basic'],
      ['Basic without a colon', `Basic ${Buffer.from('parse').toString('base64')}`, 'authorization is not Basic'],
    ])('rejects %s', async (_name, authorization, reason) => {
      const signed = await raw();
      const req = ingest({ ...signed, headers: { ...signed.headers, authorization: authorization as string } });
      await expect(adapter.verify(req, AUTH)).resolves.toEqual({ ok: false, reason });
    });

    it('rejects when the connection lacks credentials', async () => {
      await expect(adapter.verify(ingest(await raw()), { username: 'parse' })).resolves.toEqual({
        ok: false,
        reason: 'connection has no Basic auth credentials',
      });
    });
  });

  describe('verify with a signing security policy', () => {
    const creds = () => ({ ...AUTH, public_key: keys.publicKey });

    it('accepts a signed post; the SendGrid SDK agrees with the signature', async () => {
      const signed = await raw({ privateKey: keys.privateKey, timestamp: NOW_S });
      await expect(adapter.verify(ingest(signed), creds())).resolves.toEqual({ ok: true });
      const sdk = new EventWebhook();
      const ok = sdk.verifySignature(
        sdk.convertPublicKeyToECDSA(keys.publicKey),
        signed.body,
        signed.headers['x-twilio-email-event-webhook-signature']!,
        signed.headers['x-twilio-email-event-webhook-timestamp']!,
      );
      expect(ok).toBe(true);
    });

    it('verifies over the raw bytes, binary attachments included', async () => {
      const binary = [{ fieldName: 'attachment1', filename: 'x.bin', contentType: 'application/octet-stream', content: Buffer.from([0xff, 0xfe, 0x00, 0x80]) }];
      const signed = await sendgridInboundRequest(sampleSendgridParsedFields(), binary, {
        url: URL,
        ...AUTH,
        privateKey: keys.privateKey,
        timestamp: NOW_S,
      });
      await expect(adapter.verify(ingest(signed), creds())).resolves.toEqual({ ok: true });
    });

    it.each([
      ['an unsigned post', async () => ingest(await raw()), 'signature header is missing'],
      [
        'a tampered body',
        async () => {
          const r = ingest(await raw({ privateKey: keys.privateKey, timestamp: NOW_S }));
          return { ...r, rawBody: Buffer.from(r.rawBody.toString('latin1').replace('fixed it', 'broke it'), 'latin1') };
        },
        'signature does not match',
      ],
      [
        'a stale timestamp',
        async () => ingest(await raw({ privateKey: keys.privateKey, timestamp: NOW_S - 601 })),
        'timestamp is outside the 10 minute window',
      ],
      ['another key', async () => ingest(await raw({ privateKey: sendgridKeyPair().privateKey, timestamp: NOW_S })), 'signature does not match'],
    ])('rejects %s', async (_name, build, reason) => {
      await expect(adapter.verify(await build(), creds())).resolves.toEqual({ ok: false, reason });
    });

    it('still requires Basic auth', async () => {
      const signed = await raw({ privateKey: keys.privateKey, timestamp: NOW_S, password: 'guess' });
      await expect(adapter.verify(ingest(signed), creds())).resolves.toEqual({ ok: false, reason: 'Basic auth credentials do not match' });
    });
  });

  describe('parse', () => {
    it('reads the raw MIME mode', async () => {
      expect(await adapter.parse(ingest(await raw()))).toEqual({ items: [SAMPLE_ITEM], actions: [] });
    });

    it('reads the parsed mode, taking ids and dates from the header block', async () => {
      const req = ingest(await sendgridInboundRequest(sampleSendgridParsedFields(), sampleSendgridParsedFiles(), { url: URL, ...AUTH }));
      expect(await adapter.parse(req)).toEqual({ items: [SAMPLE_ITEM], actions: [] });
    });

    it('takes attachment names and types from attachment-info and sizes from the bytes', async () => {
      const fields = {
        ...sampleSendgridParsedFields(),
        attachments: '2',
        'attachment-info': JSON.stringify({
          attachment1: { filename: 'receipt.pdf', name: 'receipt.pdf', type: 'application/pdf' },
          attachment2: { filename: 'photo.jpg', name: 'photo.jpg', type: 'image/jpeg', 'content-id': 'ii_1' },
        }),
      };
      const files = [
        ...sampleSendgridParsedFiles(),
        { fieldName: 'attachment2', filename: 'upload', contentType: 'application/octet-stream', content: Buffer.alloc(2048, 1) },
      ];
      const [item] = (await adapter.parse(ingest(await sendgridInboundRequest(fields, files, { url: URL, ...AUTH })))).items;
      expect(item).toMatchObject({
        attachments: [
          { filename: 'receipt.pdf', contentType: 'application/pdf', size: SAMPLE_REPLY.attachment.content.length },
          { filename: 'photo.jpg', contentType: 'image/jpeg', size: 2048 },
        ],
      });
    });

    it('falls back to the from/to/subject fields when the header block lacks them', async () => {
      const fields = { from: 'Ann <ann@customer.example>', to: 'support@acme.example.com', subject: 'Hello', text: 'hi', headers: 'X-Mailer: test' };
      const [item] = (await adapter.parse(ingest(await sendgridInboundRequest(fields, [], { url: URL, ...AUTH })))).items;
      expect(item).toEqual({
        kind: 'inbound_email',
        providerEventId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        messageId: null,
        inReplyTo: null,
        references: [],
        // The MIME parser's rendering of the address.
        from: '"Ann" <ann@customer.example>',
        to: ['support@acme.example.com'],
        cc: [],
        subject: 'Hello',
        text: 'hi',
        html: null,
        date: NOW.toISOString(),
        attachments: [],
      });
    });

    it('uses sha256 of the raw message as the event id when it has no Message-ID', async () => {
      const mime = Buffer.from(SAMPLE_REPLY_MIME.toString('utf8').replace(/^Message-ID: .*\r\n/m, ''), 'utf8');
      const fields = { ...sampleSendgridRawFields(), email: mime.toString('utf8') };
      const [item] = (await adapter.parse(ingest(await sendgridInboundRequest(fields, [], { url: URL, ...AUTH })))).items;
      expect(item).toMatchObject({ messageId: null, providerEventId: `sha256:${createHash('sha256').update(mime).digest('hex')}` });
    });

    it('rejects a body that is not multipart', async () => {
      const signed = await raw();
      const req = ingest({ ...signed, headers: { ...signed.headers, 'content-type': 'application/json' }, body: Buffer.from('{}') });
      await expect(adapter.parse(req)).rejects.toThrow(MalformedCallbackError);
    });

    it('rejects a truncated multipart body', async () => {
      const signed = await raw();
      const req = ingest({ ...signed, body: signed.body.subarray(0, signed.body.length - 40) });
      await expect(adapter.parse(req)).rejects.toThrow(MalformedCallbackError);
    });

    it('rejects a form without any message field', async () => {
      const req = ingest(await sendgridInboundRequest({ envelope: '{}' }, [], { url: URL, ...AUTH }));
      await expect(adapter.parse(req)).rejects.toThrow(MalformedCallbackError);
    });
  });
});
