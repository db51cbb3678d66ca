import {
  mailgunEventData,
  sampleMailgunMimeFields,
  sampleMailgunRouteFields,
  sampleMailgunRouteFiles,
  signedMailgunEvent,
  signedMailgunRoute,
  SAMPLE_REPLY,
  type SignedRequest,
} from '@hookhub/testing';
import { MalformedCallbackError, type IngestRequest } from '../provider-adapter';
import { MailgunAdapter } from './mailgun.adapter';

const URL = 'https://hooks.example.com/ingest/mailgun/3b5cf468-c858-404b-9e53-630e3df9d74a';
const KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
const NOW = new Date('2025-03-04T09:20:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const CREDS = { signing_key: KEY };

function ingest(signed: SignedRequest, receivedAt = NOW): IngestRequest {
  return { method: signed.method, url: signed.url, headers: signed.headers, rawBody: signed.body, receivedAt };
}

const sign = { url: URL, signingKey: KEY, timestamp: NOW_S };

/** What every variant of the sample reply must be read as. */
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

describe('MailgunAdapter', () => {
  const adapter = new MailgunAdapter();

  it('declares a required, secret signing key', () => {
    expect(adapter.provider).toBe('mailgun');
    expect(adapter.credentials).toEqual({ signing_key: expect.objectContaining({ required: true, secret: true }) });
  });

  describe('verify', () => {
    const variants: [string, () => Promise<SignedRequest>][] = [
      ['an event webhook', async () => signedMailgunEvent(mailgunEventData('delivered'), sign)],
      ['a URL-encoded Routes post', () => signedMailgunRoute(sampleMailgunRouteFields(), sign)],
      ['a multipart Routes post', () => signedMailgunRoute(sampleMailgunRouteFields(), { ...sign, files: sampleMailgunRouteFiles() })],
      ['a raw MIME Routes post', () => signedMailgunRoute(sampleMailgunMimeFields(), sign)],
    ];

    it.each(variants)('accepts %s signed with the key', async (_name, build) => {
      await expect(adapter.verify(ingest(await build()), CREDS)).resolves.toEqual({ ok: true });
    });

    it.each(variants)('rejects %s signed with another key', async (_name, build) => {
      await expect(adapter.verify(ingest(await build()), { signing_key: 'key-other' })).resolves.toEqual({
        ok: false,
        reason: 'signature does not match',
      });
    });

    it('accepts timestamps up to 10 minutes either side of receipt', async () => {
      for (const skew of [-600, 600]) {
        const req = ingest(signedMailgunEvent(mailgunEventData('opened'), { ...sign, timestamp: NOW_S + skew }));
        await expect(adapter.verify(req, CREDS)).resolves.toEqual({ ok: true });
      }
    });

    /** Rewrites the signature block of a signed JSON event post. */
    const rewrite = (change: (sig: Record<string, string>) => void) => {
      const signed = signedMailgunEvent(mailgunEventData('delivered'), sign);
      const body = JSON.parse(signed.body.toString()) as { signature: Record<string, string> };
      change(body.signature);
      return ingest({ ...signed, body: Buffer.from(JSON.stringify(body)) });
    };

    it.each([
      ['a tampered token', () => rewrite((s) => (s['token'] = `${s['token']}x`)), 'signature does not match'],
      ['a tampered timestamp', () => rewrite((s) => (s['timestamp'] = String(NOW_S - 1))), 'signature does not match'],
      ['a tampered signature', () => rewrite((s) => (s['signature'] = '0'.repeat(64))), 'signature does not match'],
      ['a missing signature', () => rewrite((s) => delete s['signature']), 'signature fields are missing'],
      ['a missing token', () => rewrite((s) => delete s['token']), 'signature fields are missing'],
      ['a non-numeric timestamp', () => rewrite((s) => (s['timestamp'] = 'now')), 'timestamp is not a Unix time'],
      [
        'a stale timestamp',
        () => ingest(signedMailgunEvent(mailgunEventData('delivered'), { ...sign, timestamp: NOW_S - 601 })),
        'timestamp is outside the 10 minute window',
      ],
      [
        'a future timestamp',
        () => ingest(signedMailgunEvent(mailgunEventData('delivered'), { ...sign, timestamp: NOW_S + 601 })),
        'timestamp is outside the 10 minute window',
      ],
    ])('rejects an event webhook with %s', async (_name, build, reason) => {
      await expect(adapter.verify(build(), CREDS)).resolves.toEqual({ ok: false, reason });
    });

    it('rejects a Routes post whose signature fields were dropped', async () => {
      const signed = await signedMailgunRoute(sampleMailgunRouteFields(), sign);
      const params = new URLSearchParams(signed.body.toString());
      params.delete('signature');
      const req = ingest({ ...signed, body: Buffer.from(params.toString()) });
      await expect(adapter.verify(req, CREDS)).resolves.toEqual({ ok: false, reason: 'signature fields are missing' });
    });

    it('rejects bodies it cannot read and connections without a key', async () => {
      const signed = signedMailgunEvent(mailgunEventData('delivered'), sign);
      await expect(adapter.verify(ingest({ ...signed, body: Buffer.from('{not json') }), CREDS)).resolves.toEqual({
        ok: false,
        reason: 'body carries no readable signature',
      });
      const noType = ingest({ ...signed, headers: {} });
      await expect(adapter.verify(noType, CREDS)).resolves.toEqual({ ok: false, reason: expect.stringContaining('Content-Type is missing') });
      // A signed JSON event declared as a form is read as a form, where there is no signature.
      const asForm = ingest({ ...signed, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      await expect(adapter.verify(asForm, CREDS)).resolves.toEqual({ ok: false, reason: 'signature fields are missing' });
      const asText = ingest({ ...signed, headers: { 'content-type': 'text/plain' } });
      await expect(adapter.verify(asText, CREDS)).resolves.toEqual({
        ok: false,
        reason: expect.stringContaining('Content-Type text/plain is not what this provider sends'),
      });
      await expect(adapter.verify(ingest(signed), {})).resolves.toEqual({ ok: false, reason: 'connection has no signing key' });
    });
  });

  describe('parse event webhooks', () => {
    const parseOne = async (data: Record<string, unknown>) => (await adapter.parse(ingest(signedMailgunEvent(data, sign)))).items;

    const base = {
      kind: 'delivery_status',
      providerMessageId: '20250304091500.1.ABCDEF@acme.example.com',
      channel: 'email',
      occurredAt: '2025-03-04T09:15:00.123Z',
      recipient: 'customer@customer.example',
      errorCode: null,
      errorMessage: null,
    };

    it.each([
      ['accepted', {}, 'queued'],
      ['delivered', { 'delivery-status': { code: 250, message: 'OK', description: '' } }, 'delivered'],
      ['opened', {}, 'opened'],
      ['clicked', { url: 'https://acme.example.com/t/53249' }, 'clicked'],
      ['complained', {}, 'complained'],
      ['unsubscribed', {}, 'unsubscribed'],
      ['stored', {}, 'unknown'],
    ])('maps %s', async (event, extra, status) => {
      expect(await parseOne(mailgunEventData(event, extra))).toEqual([
        { ...base, providerEventId: `${event}-G9Bn5sl1TC6nu79C8C0bwg`, status, rawStatus: event },
      ]);
    });

    it.each([
      [
        'a permanent bounce',
        { severity: 'permanent', reason: 'bounce', 'delivery-status': { code: 550, message: '5.1.1 No such user', description: '' } },
        { status: 'bounced', errorCode: '550', errorMessage: '5.1.1 No such user' },
      ],
      [
        'a temporary failure',
        { severity: 'temporary', reason: 'generic', 'delivery-status': { code: 452, message: '', description: 'Mailbox full' } },
        { status: 'deferred', errorCode: '452', errorMessage: 'Mailbox full' },
      ],
      [
        'a suppressed send',
        { severity: 'permanent', reason: 'suppress-bounce', 'delivery-status': { code: 605, description: 'Not delivering to previously bounced address' } },
        { status: 'dropped', errorCode: '605', errorMessage: 'Not delivering to previously bounced address' },
      ],
      ['a failure without severity', {}, { status: 'failed' }],
    ])('maps failed: %s', async (_name, extra, expected) => {
      expect(await parseOne(mailgunEventData('failed', extra))).toEqual([
        { ...base, providerEventId: 'failed-G9Bn5sl1TC6nu79C8C0bwg', rawStatus: 'failed', ...expected },
      ]);
    });

    it('maps rejected with its reason', async () => {
      const data = mailgunEventData('rejected', { reject: { reason: 'hardfail', description: 'Sender not authorised' } });
      expect(await parseOne(data)).toEqual([
        { ...base, providerEventId: 'rejected-G9Bn5sl1TC6nu79C8C0bwg', status: 'rejected', rawStatus: 'rejected', errorMessage: 'Sender not authorised' },
      ]);
    });

    it('strips angle brackets from the message id', async () => {
      const data = mailgunEventData('delivered');
      (data['message'] as { headers: Record<string, string> }).headers['message-id'] = '<abc@acme.example.com>';
      expect((await parseOne(data))[0]).toMatchObject({ providerMessageId: 'abc@acme.example.com' });
    });

    it.each([
      ['without event-data', () => Buffer.from(JSON.stringify({ signature: {} }))],
      ['without an event id', () => Buffer.from(JSON.stringify({ 'event-data': { ...mailgunEventData('delivered'), id: undefined } }))],
      ['without a message id', () => Buffer.from(JSON.stringify({ 'event-data': { ...mailgunEventData('delivered'), message: {} } }))],
      ['that is an array', () => Buffer.from('[]')],
      ['that is not JSON', () => Buffer.from('{')],
    ])('rejects a JSON body %s', async (_name, body) => {
      const req: IngestRequest = { method: 'POST', url: URL, headers: { 'content-type': 'application/json' }, rawBody: body(), receivedAt: NOW };
      await expect(adapter.parse(req)).rejects.toThrow(MalformedCallbackError);
    });
  });

  describe('parse inbound Routes posts', () => {
    it('reads a multipart forward with its attachment', async () => {
      const req = ingest(await signedMailgunRoute(sampleMailgunRouteFields(), { ...sign, files: sampleMailgunRouteFiles() }));
      expect(await adapter.parse(req)).toEqual({ items: [SAMPLE_ITEM], actions: [] });
    });

    it('reads a URL-encoded forward (no attachments)', async () => {
      const fields = { ...sampleMailgunRouteFields(), 'attachment-count': '0' };
      const req = ingest(await signedMailgunRoute(fields, sign));
      expect(await adapter.parse(req)).toEqual({ items: [{ ...SAMPLE_ITEM, attachments: [] }], actions: [] });
    });

    it('reads the raw MIME variant', async () => {
      const req = ingest(await signedMailgunRoute(sampleMailgunMimeFields(), sign));
      expect(await adapter.parse(req)).toEqual({ items: [SAMPLE_ITEM], actions: [] });
    });

    it('falls back to the top-level header fields when message-headers is absent', async () => {
      const fields = sampleMailgunRouteFields();
      delete fields['message-headers'];
      const req = ingest(await signedMailgunRoute(fields, { ...sign, files: sampleMailgunRouteFiles() }));
      expect(await adapter.parse(req)).toEqual({ items: [SAMPLE_ITEM], actions: [] });
    });

    it('reads the stored attachments list of a store-and-notify post', async () => {
      const fields = {
        ...sampleMailgunRouteFields(),
        'message-url': 'https://storage.eu.mailgun.net/v3/domains/acme.example.com/messages/AgEFx',
        attachments: JSON.stringify([
          { url: 'https://storage.eu.mailgun.net/v3/…/attachments/0', 'content-type': 'application/pdf', name: 'receipt.pdf', size: 31 },
        ]),
      };
      const req = ingest(await signedMailgunRoute(fields, sign));
      const [item] = (await adapter.parse(req)).items;
      expect(item).toMatchObject({ attachments: [{ filename: 'receipt.pdf', contentType: 'application/pdf', size: 31 }] });
    });

    it('uses a digest as the event id when the message has no Message-Id', async () => {
      const minimal = { from: 'a@customer.example', recipient: 'support@acme.example.com', subject: 'hi', 'body-plain': 'hello' };
      const first = (await adapter.parse(ingest(await signedMailgunRoute(minimal, sign)))).items[0];
      const again = (await adapter.parse(ingest(await signedMailgunRoute(minimal, { ...sign, token: 'other' })))).items[0];
      expect(first).toEqual({
        kind: 'inbound_email',
        providerEventId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        messageId: null,
        inReplyTo: null,
        references: [],
        from: 'a@customer.example',
        to: ['support@acme.example.com'],
        cc: [],
        subject: 'hi',
        text: 'hello',
        html: null,
        date: NOW.toISOString(),
        attachments: [],
      });
      // A retry carries a new token and signature but is the same message.
      expect(again?.providerEventId).toBe(first?.providerEventId);
    });

    it.each([
      ['has none of the message fields', { foo: 'bar' }, 'application/x-www-form-urlencoded'],
      [
        'is a legacy event webhook',
        { event: 'delivered', recipient: 'a@b.c', 'message-headers': '[["Message-Id", "<x@y>"]]', 'Message-Id': '<x@y>' },
        'application/x-www-form-urlencoded',
      ],
      ['has invalid message-headers', { from: 'a@b.c', 'message-headers': '[oops' }, 'application/x-www-form-urlencoded'],
      ['is multipart without a boundary', { from: 'a@b.c' }, 'multipart/form-data'],
      ['has an unknown content type', { from: 'a@b.c' }, 'text/plain'],
    ])('rejects a form that %s', async (_name, fields, contentType) => {
      const signed = await signedMailgunRoute(fields, sign);
      const req = ingest({ ...signed, headers: { 'content-type': contentType } });
      await expect(adapter.parse(req)).rejects.toThrow(MalformedCallbackError);
    });
  });
});
