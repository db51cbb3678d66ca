import { EventWebhook } from '@sendgrid/eventwebhook';
import { sendgridEvent, sendgridKeyPair, signedSendgridEvents, type SendgridKeyPair, type SignedRequest } from '@hookhub/testing';
import { MalformedCallbackError, UnsupportedMediaTypeError, type IngestRequest } from '../provider-adapter';
import { SENDGRID_MAX_BATCH_BYTES, SendgridAdapter } from './sendgrid.adapter';

const URL = 'https://hooks.example.com/ingest/sendgrid/3b5cf468-c858-404b-9e53-630e3df9d74a';
const NOW = new Date('2025-03-04T09:20:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

function ingest(signed: SignedRequest, receivedAt = NOW): IngestRequest {
  return { method: signed.method, url: signed.url, headers: signed.headers, rawBody: signed.body, receivedAt };
}

describe('SendgridAdapter', () => {
  const adapter = new SendgridAdapter();
  let keys: SendgridKeyPair;
  let other: SendgridKeyPair;

  beforeAll(() => {
    keys = sendgridKeyPair();
    other = sendgridKeyPair();
  });

  const sign = (events: Record<string, unknown>[], timestamp = NOW_S) => signedSendgridEvents(events, { url: URL, privateKey: keys.privateKey, timestamp });

  it('declares a public, required verification key', () => {
    expect(adapter.provider).toBe('sendgrid');
    expect(adapter.credentials).toEqual({ public_key: expect.objectContaining({ required: true, secret: false }) });
  });

  describe('verify', () => {
    it('signs the way the SendGrid SDK verifies', () => {
      const signed = sign([sendgridEvent('delivered')]);
      const sdk = new EventWebhook();
      const ok = sdk.verifySignature(
        sdk.convertPublicKeyToECDSA(keys.publicKey),
        signed.body,
        signed.headers['x-twilio-email-event-webhook-signature']!,
        signed.headers['x-twilio-email-event-webhook-timestamp']!,
      );
      expect(ok).toBe(true);
    });

    it('accepts a signature made by SendGrid itself (the SDK test vector)', async () => {
      // Published in @sendgrid/eventwebhook's own tests: key, signature and body as SendGrid produced them.
      const publicKey = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==';
      const payload =
        JSON.stringify([
          {
            email: 'hello@world.com',
            event: 'dropped',
            reason: 'Bounced Address',
            sg_event_id: 'ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA',
            sg_message_id: 'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0',
            'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
            timestamp: 1600112492,
          },
        ]) + '\r\n';
      const req: IngestRequest = {
        method: 'POST',
        url: URL,
        headers: {
          'x-twilio-email-event-webhook-signature': 'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=',
          'x-twilio-email-event-webhook-timestamp': '1600112502',
        },
        rawBody: Buffer.from(payload, 'utf8'),
        receivedAt: new Date(1600112510 * 1000),
      };
      await expect(adapter.verify(req, { public_key: publicKey })).resolves.toEqual({ ok: true });
      const tampered = { ...req, rawBody: Buffer.from(payload.replace('dropped', 'bounce'), 'utf8') };
      await expect(adapter.verify(tampered, { public_key: publicKey })).resolves.toEqual({
        ok: false,
        reason: 'signature does not match',
      });
    });

    it('accepts a valid signature, also with the key in PEM form', async () => {
      const req = ingest(sign([sendgridEvent('delivered')]));
      await expect(adapter.verify(req, { public_key: keys.publicKey })).resolves.toEqual({ ok: true });
      const pem = `-----BEGIN PUBLIC KEY-----\n${keys.publicKey}\n-----END PUBLIC KEY-----\n`;
      await expect(adapter.verify(req, { public_key: pem })).resolves.toEqual({ ok: true });
    });

    it('accepts timestamps up to 10 minutes either side of receipt', async () => {
      for (const skew of [-600, 600]) {
        const req = ingest(sign([sendgridEvent('open')], NOW_S + skew));
        await expect(adapter.verify(req, { public_key: keys.publicKey })).resolves.toEqual({ ok: true });
      }
    });

    it.each([
      ['a tampered body', (r: IngestRequest) => ({ ...r, rawBody: Buffer.from(r.rawBody.toString().replace('open', 'click')) }), 'signature does not match'],
      [
        'a tampered timestamp',
        (r: IngestRequest) => ({ ...r, headers: { ...r.headers, 'x-twilio-email-event-webhook-timestamp': String(NOW_S - 1) } }),
        'signature does not match',
      ],
      ['a stale timestamp', () => ingest(sign([sendgridEvent('open')], NOW_S - 601)), 'timestamp is outside the 10 minute window'],
      ['a future timestamp', () => ingest(sign([sendgridEvent('open')], NOW_S + 601)), 'timestamp is outside the 10 minute window'],
      [
        'a missing signature header',
        (r: IngestRequest) => ({ ...r, headers: { ...r.headers, 'x-twilio-email-event-webhook-signature': undefined } }),
        'signature header is missing',
      ],
      [
        'a missing timestamp header',
        (r: IngestRequest) => ({ ...r, headers: { ...r.headers, 'x-twilio-email-event-webhook-timestamp': undefined } }),
        'timestamp header is missing',
      ],
      [
        'a non-numeric timestamp',
        (r: IngestRequest) => ({ ...r, headers: { ...r.headers, 'x-twilio-email-event-webhook-timestamp': 'yesterday' } }),
        'timestamp header is not a Unix time',
      ],
      [
        'a signature that is not DER',
        (r: IngestRequest) => ({ ...r, headers: { ...r.headers, 'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl' } }),
        'signature does not match',
      ],
    ])('rejects %s', async (_name, mutate, reason) => {
      const req = mutate(ingest(sign([sendgridEvent('open')])));
      await expect(adapter.verify(req, { public_key: keys.publicKey })).resolves.toEqual({ ok: false, reason });
    });

    it('rejects a signature made with another key', async () => {
      const req = ingest(signedSendgridEvents([sendgridEvent('open')], { url: URL, privateKey: other.privateKey, timestamp: NOW_S }));
      await expect(adapter.verify(req, { public_key: keys.publicKey })).resolves.toEqual({
        ok: false,
        reason: 'signature does not match',
      });
    });

    it('rejects when the connection has no usable key, without echoing it', async () => {
      const req = ingest(sign([sendgridEvent('open')]));
      await expect(adapter.verify(req, {})).resolves.toEqual({ ok: false, reason: 'connection has no public key' });
      const result = await adapter.verify(req, { public_key: 'bm90LWEta2V5' });
      expect(result).toEqual({ ok: false, reason: 'public key is not a base64 SPKI P-256 key' });
    });
  });

  describe('parse', () => {
    it('turns every event into one delivery status, mapping statuses and errors', async () => {
      const events = [
        sendgridEvent('processed', { timestamp: 1741079700 }),
        sendgridEvent('deferred', { timestamp: 1741079701, response: '421 4.7.0 Try again later', attempt: '1' }),
        sendgridEvent('delivered', { timestamp: 1741079702, response: '250 2.0.0 OK' }),
        sendgridEvent('bounce', {
          timestamp: 1741079703,
          type: 'blocked',
          status: '5.7.1',
          reason: '550 5.7.1 Message rejected by policy',
        }),
        sendgridEvent('dropped', { timestamp: 1741079704, reason: 'Bounced Address' }),
        sendgridEvent('open', { timestamp: 1741079705, useragent: 'Mozilla/5.0', ip: '192.0.2.1' }),
        sendgridEvent('click', { timestamp: 1741079706, url: 'https://acme.example.com/t/53249' }),
        sendgridEvent('spamreport', { timestamp: 1741079707 }),
        sendgridEvent('unsubscribe', { timestamp: 1741079708 }),
        sendgridEvent('group_unsubscribe', { timestamp: 1741079709, asm_group_id: 42 }),
        sendgridEvent('machine_opened', { timestamp: 1741079710 }),
      ];
      const parsed = await adapter.parse(ingest(sign(events)));
      expect(parsed.actions).toEqual([]);
      const base = {
        kind: 'delivery_status',
        providerMessageId: 'LRzXl_NHStOGhQ4kofSm_A',
        channel: 'email',
        recipient: 'customer@customer.example',
        errorCode: null,
        errorMessage: null,
      };
      const expected = [
        ['processed', 'queued', '2025-03-04T09:15:00.000Z', {}],
        ['deferred', 'deferred', '2025-03-04T09:15:01.000Z', { errorMessage: '421 4.7.0 Try again later' }],
        ['delivered', 'delivered', '2025-03-04T09:15:02.000Z', {}],
        ['bounce', 'bounced', '2025-03-04T09:15:03.000Z', { errorCode: '5.7.1', errorMessage: '550 5.7.1 Message rejected by policy' }],
        ['dropped', 'dropped', '2025-03-04T09:15:04.000Z', { errorMessage: 'Bounced Address' }],
        ['open', 'opened', '2025-03-04T09:15:05.000Z', {}],
        ['click', 'clicked', '2025-03-04T09:15:06.000Z', {}],
        ['spamreport', 'complained', '2025-03-04T09:15:07.000Z', {}],
        ['unsubscribe', 'unsubscribed', '2025-03-04T09:15:08.000Z', {}],
        ['group_unsubscribe', 'unsubscribed', '2025-03-04T09:15:09.000Z', {}],
        ['machine_opened', 'unknown', '2025-03-04T09:15:10.000Z', {}],
      ] as const;
      expect(parsed.items).toEqual(
        expected.map(([raw, status, occurredAt, extra]) => ({
          ...base,
          providerEventId: `${raw}-ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA`,
          status,
          rawStatus: raw,
          occurredAt,
          ...extra,
        })),
      );
    });

    it('falls back to smtp-id for async bounces and composes an id when sg_event_id is missing', async () => {
      const event = sendgridEvent('bounce', { status: '5.1.1', reason: 'user unknown', type: 'bounce' });
      delete event['sg_message_id'];
      delete event['sg_event_id'];
      const [item] = (await adapter.parse(ingest(sign([event])))).items;
      expect(item).toMatchObject({
        providerMessageId: 'LRzXl_NHStOGhQ4kofSm_A',
        providerEventId: 'LRzXl_NHStOGhQ4kofSm_A:bounce:2025-03-04T09:15:00.000Z',
        status: 'bounced',
        errorCode: '5.1.1',
      });
    });

    it('skips account events that concern no message', async () => {
      const account = { event: 'account_status_change', type: 'compliance_suspend', timestamp: 1741079700, sg_event_id: 'acc-1' };
      const parsed = await adapter.parse(ingest(sign([account, sendgridEvent('delivered')])));
      expect(parsed.items.map((i) => i.providerEventId)).toEqual(['delivered-ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA']);
    });

    it('uses the receipt time when an event has no timestamp', async () => {
      const event = sendgridEvent('delivered');
      delete event['timestamp'];
      const [item] = (await adapter.parse(ingest(sign([event])))).items;
      expect(item).toMatchObject({ occurredAt: NOW.toISOString() });
    });

    it('reads a full 768 KB batch (thousands of events, no count limit) into one item per event, in order', async () => {
      const events: Record<string, unknown>[] = [];
      for (let i = 0; ; i++) {
        const next = sendgridEvent(i % 2 ? 'open' : 'delivered', { sg_event_id: `e${i}` });
        if (JSON.stringify([...events, next]).length + 2 > SENDGRID_MAX_BATCH_BYTES) break;
        events.push(next);
      }
      const signed = sign(events);
      expect(signed.body.length).toBeGreaterThan(SENDGRID_MAX_BATCH_BYTES - 1_000);
      expect(events.length).toBeGreaterThan(2_000);
      const { items } = await adapter.parse(ingest(signed));
      expect(items.map((i) => i.providerEventId)).toEqual(events.map((e) => e['sg_event_id']));
    });

    it.each([
      ['not JSON', Buffer.from('event=delivered')],
      ['an object instead of an array', Buffer.from(JSON.stringify(sendgridEvent('open')))],
      ['an array of non-objects', Buffer.from('["open"]')],
    ])('rejects a body that is %s', async (_name, body) => {
      const req: IngestRequest = { method: 'POST', url: URL, headers: { 'content-type': 'application/json' }, rawBody: body, receivedAt: NOW };
      await expect(adapter.parse(req)).rejects.toThrow(MalformedCallbackError);
      await expect(adapter.parse(req)).rejects.not.toThrow(UnsupportedMediaTypeError);
    });

    it.each([
      ['no content type', undefined],
      ['a form', 'application/x-www-form-urlencoded'],
      ['text', 'text/plain'],
      ['JSON in another charset', 'application/json; charset=utf-16'],
      ['garbage', 'json'],
    ])('refuses a signed batch declared as %s: SendGrid posts application/json', async (_name, contentType) => {
      const signed = sign([sendgridEvent('delivered')]);
      const req = ingest(signed);
      await expect(adapter.parse({ ...req, headers: { ...req.headers, 'content-type': contentType } })).rejects.toThrow(UnsupportedMediaTypeError);
    });

    it('accepts application/json with parameters and in any case', async () => {
      const signed = sign([sendgridEvent('delivered')]);
      for (const contentType of ['application/json; charset=utf-8', 'Application/JSON']) {
        expect((await adapter.parse(ingest({ ...signed, headers: { ...signed.headers, 'content-type': contentType } }))).items).toHaveLength(1);
      }
    });
  });
});
