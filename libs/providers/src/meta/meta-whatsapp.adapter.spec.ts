import { createHmac } from 'node:crypto';
import { metaHandshakeRequest, metaJson, metaStatusPayload, metaWebhookRequest, type SignedRequest } from '@hookhub/testing';
import { IngestRequest, MalformedCallbackError } from '../provider-adapter';
import { MetaWhatsappAdapter } from './meta-whatsapp.adapter';

const URL_BASE = 'https://ingest.hookhub.test/ingest/meta_whatsapp/2b0c5a9e-4d0e-4a51-9a43-6f1f3b1c7d20';
const APP_SECRET = 'meta-app-secret-7d1e4c';
const VERIFY_TOKEN = 'verify-token-91b3f0';
const credentials = { app_secret: APP_SECRET, verify_token: VERIFY_TOKEN };
const receivedAt = new Date('2025-06-16T00:00:00.000Z');

function ingest(req: SignedRequest): IngestRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  return { method: req.method, url: req.url, headers, rawBody: req.body, receivedAt };
}

/**
 * Written by hand the way Meta serialises: `\/` in URLs and `\u00e9` /
 * `\ud83d\udc4d` for non-ASCII. JSON.stringify of the parsed value gives other
 * bytes, so only a check over the raw body can pass.
 */
const ESCAPED_BODY =
  '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":' +
  '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},' +
  '"statuses":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QTRGNkMxQjg5RTQ0QkU4QzUA","status":"failed","timestamp":"1750030073",' +
  '"recipient_id":"16505551234","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message",' +
  '"error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number. Caf\\u00e9 \\ud83d\\udc4d"},' +
  '"href":"https:\\/\\/developers.facebook.com\\/docs\\/whatsapp\\/cloud-api\\/support\\/error-codes\\/"}]}]},"field":"messages"}]}]}';

describe('MetaWhatsappAdapter', () => {
  const adapter = new MetaWhatsappAdapter();

  describe('credentials', () => {
    it('declares both secrets as required secrets', () => {
      expect(adapter.provider).toBe('meta_whatsapp');
      expect(adapter.credentials.app_secret).toMatchObject({ required: true, secret: true });
      expect(adapter.credentials.verify_token).toMatchObject({ required: true, secret: true });
    });
  });

  describe('handshake', () => {
    it('echoes hub.challenge as text/plain when the verify token matches', () => {
      const req = metaHandshakeRequest(URL_BASE, { verifyToken: VERIFY_TOKEN, challenge: '1158201444' });
      expect(adapter.handshake(ingest(req), credentials)).toEqual({ status: 200, contentType: 'text/plain', body: '1158201444' });
    });

    it.each([
      ['a wrong verify token', metaHandshakeRequest(URL_BASE, { verifyToken: 'guess', challenge: '42' })],
      ['a mode other than subscribe', metaHandshakeRequest(URL_BASE, { verifyToken: VERIFY_TOKEN, challenge: '42', mode: 'unsubscribe' })],
      ['no query at all', { method: 'GET' as const, url: URL_BASE, headers: {}, body: Buffer.alloc(0) }],
    ])('answers 403 with a problem document for %s', (_name, req) => {
      const reply = adapter.handshake(ingest(req), credentials);
      expect(reply.status).toBe(403);
      expect(reply.contentType).toBe('application/problem+json');
      expect(JSON.parse(reply.body)).toEqual({
        type: 'https://hookhub.dev/problems/forbidden',
        title: 'Forbidden',
        status: 403,
        detail: expect.any(String),
      });
      expect(reply.body).not.toContain(VERIFY_TOKEN);
    });

    it('answers 403 when the connection has no verify token', () => {
      const req = metaHandshakeRequest(URL_BASE, { verifyToken: '', challenge: '42' });
      expect(adapter.handshake(ingest(req), { app_secret: APP_SECRET, verify_token: '' }).status).toBe(403);
    });
  });

  describe('verify', () => {
    it('accepts a body signed over Meta-escaped raw bytes', async () => {
      const reparsed = JSON.stringify(JSON.parse(ESCAPED_BODY));
      expect(reparsed).not.toBe(ESCAPED_BODY);
      await expect(adapter.verify(ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, APP_SECRET)), credentials)).resolves.toEqual({ ok: true });
    });

    it('accepts bodies produced by the metaJson signer helper (non-ASCII and slashes escaped)', async () => {
      const body = metaJson({ object: 'whatsapp_business_account', entry: [], note: 'héllo / wörld 👍' });
      expect(body).toContain('h\\u00e9llo \\/ w\\u00f6rld \\ud83d\\udc4d');
      await expect(adapter.verify(ingest(metaWebhookRequest(URL_BASE, body, APP_SECRET)), credentials)).resolves.toEqual({ ok: true });
    });

    it('accepts an upper-case hex digest', async () => {
      const req = ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, APP_SECRET));
      const headers = { ...req.headers, 'x-hub-signature-256': req.headers['x-hub-signature-256']!.toUpperCase().replace('SHA256=', 'sha256=') };
      await expect(adapter.verify({ ...req, headers }, credentials)).resolves.toEqual({ ok: true });
    });

    it('rejects the re-serialised body under the original signature', async () => {
      const req = ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, APP_SECRET));
      const reparsed = Buffer.from(JSON.stringify(JSON.parse(ESCAPED_BODY)), 'utf8');
      await expect(adapter.verify({ ...req, rawBody: reparsed }, credentials)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a tampered body', async () => {
      const req = ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, APP_SECRET));
      const tampered = Buffer.from(ESCAPED_BODY.replace('"failed"', '"read"'), 'utf8');
      await expect(adapter.verify({ ...req, rawBody: tampered }, credentials)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a signature made with another secret', async () => {
      const req = ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, 'another-secret'));
      const result = await adapter.verify(req, credentials);
      expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it.each([
      ['missing', undefined, 'missing X-Hub-Signature-256 header'],
      ['without the sha256= prefix', createHmac('sha256', APP_SECRET).update(ESCAPED_BODY).digest('hex'), 'malformed X-Hub-Signature-256 header'],
      ['SHA-1 (X-Hub-Signature style)', `sha1=${createHmac('sha1', APP_SECRET).update(ESCAPED_BODY).digest('hex')}`, 'malformed X-Hub-Signature-256 header'],
    ])('rejects a signature header that is %s', async (_name, value, reason) => {
      const req = ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, APP_SECRET));
      const headers = { ...req.headers, 'x-hub-signature-256': value };
      const result = await adapter.verify({ ...req, headers }, credentials);
      expect(result).toEqual({ ok: false, reason });
    });

    it('rejects when the connection has no app secret, without echoing credentials', async () => {
      const result = await adapter.verify(ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, APP_SECRET)), { verify_token: VERIFY_TOKEN });
      expect(result).toEqual({ ok: false, reason: 'app_secret is not configured' });
      expect(JSON.stringify(result)).not.toContain(VERIFY_TOKEN);
    });
  });

  describe('parse', () => {
    it('reads a failed status with its error from the escaped body', async () => {
      const parsed = await adapter.parse(ingest(metaWebhookRequest(URL_BASE, ESCAPED_BODY, APP_SECRET)));
      expect(parsed).toEqual({
        items: [
          {
            kind: 'delivery_status',
            providerEventId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QTRGNkMxQjg5RTQ0QkU4QzUA:failed:1750030073',
            providerMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QTRGNkMxQjg5RTQ0QkU4QzUA',
            channel: 'whatsapp',
            status: 'failed',
            rawStatus: 'failed',
            errorCode: '131047',
            errorMessage: 'Re-engagement message',
            occurredAt: '2025-06-15T23:27:53.000Z',
            recipient: '16505551234',
          },
        ],
        actions: [],
      });
    });

    it('reads every status of every entry and change', async () => {
      const body = metaStatusPayload([
        {
          id: 'wamid.AAA',
          status: 'delivered',
          timestamp: '1750030000',
          recipient_id: '16505551234',
          conversation: { id: 'c1', origin: { type: 'utility' } },
          pricing: { billable: true, pricing_model: 'CBP', category: 'utility' },
        },
        { id: 'wamid.AAA', status: 'read', timestamp: '1750030100', recipient_id: '16505551234' },
        { id: 'wamid.BBB', status: 'deleted', timestamp: '1750030200', recipient_id: '16505550000' },
        {
          id: 'wamid.CCC',
          status: 'failed',
          timestamp: '1750030300',
          recipient_id: '16505559999',
          errors: [{ code: 131026, message: 'Message undeliverable', error_data: { details: 'Receiver is incapable of receiving this message' } }],
        },
        {
          id: 'wamid.DDD',
          status: 'failed',
          timestamp: '1750030400',
          recipient_id: '16505558888',
          errors: [{ code: 130472, error_data: { details: "User's number is part of an experiment" } }],
        },
      ]);
      const parsed = await adapter.parse(ingest(metaWebhookRequest(URL_BASE, metaJson(body), APP_SECRET)));
      expect(parsed.actions).toEqual([]);
      expect(parsed.items).toEqual([
        {
          kind: 'delivery_status',
          providerEventId: 'wamid.AAA:delivered:1750030000',
          providerMessageId: 'wamid.AAA',
          channel: 'whatsapp',
          status: 'delivered',
          rawStatus: 'delivered',
          errorCode: null,
          errorMessage: null,
          occurredAt: '2025-06-15T23:26:40.000Z',
          recipient: '16505551234',
        },
        {
          kind: 'delivery_status',
          providerEventId: 'wamid.AAA:read:1750030100',
          providerMessageId: 'wamid.AAA',
          channel: 'whatsapp',
          status: 'read',
          rawStatus: 'read',
          errorCode: null,
          errorMessage: null,
          occurredAt: '2025-06-15T23:28:20.000Z',
          recipient: '16505551234',
        },
        {
          kind: 'delivery_status',
          providerEventId: 'wamid.BBB:deleted:1750030200',
          providerMessageId: 'wamid.BBB',
          channel: 'whatsapp',
          status: 'unknown',
          rawStatus: 'deleted',
          errorCode: null,
          errorMessage: null,
          occurredAt: '2025-06-15T23:30:00.000Z',
          recipient: '16505550000',
        },
        {
          kind: 'delivery_status',
          providerEventId: 'wamid.CCC:failed:1750030300',
          providerMessageId: 'wamid.CCC',
          channel: 'whatsapp',
          status: 'failed',
          rawStatus: 'failed',
          errorCode: '131026',
          errorMessage: 'Message undeliverable',
          occurredAt: '2025-06-15T23:31:40.000Z',
          recipient: '16505559999',
        },
        {
          kind: 'delivery_status',
          providerEventId: 'wamid.DDD:failed:1750030400',
          providerMessageId: 'wamid.DDD',
          channel: 'whatsapp',
          status: 'failed',
          rawStatus: 'failed',
          errorCode: '130472',
          errorMessage: "User's number is part of an experiment",
          occurredAt: '2025-06-15T23:33:20.000Z',
          recipient: '16505558888',
        },
      ]);
    });

    it('ignores inbound customer messages', async () => {
      const body = {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            changes: [
              {
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                  contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
                  messages: [{ from: '16505551234', id: 'wamid.IN1', timestamp: '1749416383', type: 'text', text: { body: 'Does it come in another color?' } }],
                },
                field: 'messages',
              },
            ],
          },
        ],
      };
      await expect(adapter.parse(ingest(metaWebhookRequest(URL_BASE, metaJson(body), APP_SECRET)))).resolves.toEqual({ items: [], actions: [] });
    });

    it.each([
      ['another Graph object', JSON.stringify({ object: 'page', entry: [] })],
      ['no entry array', JSON.stringify({ object: 'whatsapp_business_account' })],
      ['a status without id', metaJson(metaStatusPayload([{ id: '', status: 'sent', timestamp: '1', recipient_id: '1' }]))],
      ['a body that is not JSON', 'hub.mode=subscribe'],
    ])('throws MalformedCallbackError for %s', async (_name, body) => {
      await expect(adapter.parse(ingest(metaWebhookRequest(URL_BASE, body, APP_SECRET)))).rejects.toBeInstanceOf(MalformedCallbackError);
    });
  });
});
