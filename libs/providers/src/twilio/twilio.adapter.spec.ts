import { getExpectedTwilioSignature, validateRequest } from 'twilio/lib/webhooks/webhooks';
import { type SignedRequest, signTwilioForm, signTwilioJson } from '@hookhub/testing';
import { MalformedCallbackError, type IngestRequest } from '../provider-adapter';
import { TwilioAdapter } from './twilio.adapter';

const URL_BASE = 'https://hooks.example.com/ingest/twilio_sms/7d0c7f5e-1b7a-4c39-9c55-0f7a3f1d2b10';
const AUTH_TOKEN = '12345678901234567890123456789012';
const CREDENTIALS = { auth_token: AUTH_TOKEN };
const RECEIVED_AT = new Date('2025-03-01T12:00:00.000Z');

const SMS_DELIVERED = {
  AccountSid: 'AC00000000000000000000000000000000',
  ApiVersion: '2010-04-01',
  From: '+15005550006',
  MessageSid: 'SM1f0e7d3b8a9c4e2f9d6b5a4c3e2f1a0b',
  MessageStatus: 'delivered',
  RawDlrDoneDate: '2503011159',
  SmsSid: 'SM1f0e7d3b8a9c4e2f9d6b5a4c3e2f1a0b',
  SmsStatus: 'delivered',
  To: '+15558675310',
};

function ingest(signed: SignedRequest, receivedAt = RECEIVED_AT): IngestRequest {
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: signed.method, url: signed.url, headers, rawBody: signed.body, receivedAt };
}

function formFields(request: IngestRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8')));
}

describe('TwilioAdapter', () => {
  const sms = new TwilioAdapter('twilio_sms');
  const whatsapp = new TwilioAdapter('twilio_whatsapp');

  it('declares its provider name and the auth token as a required secret', () => {
    expect(sms.provider).toBe('twilio_sms');
    expect(whatsapp.provider).toBe('twilio_whatsapp');
    expect(sms.credentials).toEqual({ auth_token: expect.objectContaining({ required: true, secret: true }) });
  });

  describe('verify', () => {
    it('accepts a status callback signed by twilio-node, as twilio-node itself does', async () => {
      const request = ingest(signTwilioForm(`${URL_BASE}?tenant=acme&b=2`, SMS_DELIVERED, CREDENTIALS));
      expect(validateRequest(AUTH_TOKEN, request.headers['x-twilio-signature'] ?? '', request.url, formFields(request))).toBe(true);
      await expect(sms.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('accepts the URL with the default port written out when Twilio signed it without', async () => {
      const signed = signTwilioForm(URL_BASE, SMS_DELIVERED, CREDENTIALS);
      const request = ingest({ ...signed, url: URL_BASE.replace('hooks.example.com', 'hooks.example.com:443') });
      await expect(sms.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('accepts repeated parameters signed the way twilio-node signs them', async () => {
      const signature = getExpectedTwilioSignature(AUTH_TOKEN, URL_BASE, { MessageSid: 'SM1', MessageStatus: 'sent', Tag: ['b', 'a'] });
      const request = ingest({
        method: 'POST',
        url: URL_BASE,
        headers: { 'X-Twilio-Signature': signature },
        body: Buffer.from('MessageSid=SM1&MessageStatus=sent&Tag=b&Tag=a', 'utf8'),
      });
      await expect(sms.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('accepts a JSON callback bound to its URL by bodySHA256', async () => {
      const request = ingest(signTwilioJson(URL_BASE, { MessageSid: 'SM9', MessageStatus: 'sent' }, CREDENTIALS));
      await expect(sms.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('rejects a JSON callback whose body was altered', async () => {
      const request = ingest(signTwilioJson(URL_BASE, { MessageSid: 'SM9', MessageStatus: 'sent' }, CREDENTIALS));
      const tampered = { ...request, rawBody: Buffer.from('{"MessageSid":"SM9","MessageStatus":"failed"}') };
      await expect(sms.verify(tampered, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'body hash mismatch' });
    });

    it('rejects a tampered body', async () => {
      const request = ingest(signTwilioForm(URL_BASE, SMS_DELIVERED, CREDENTIALS));
      const tampered = { ...request, rawBody: Buffer.from(request.rawBody.toString('utf8').replace('delivered', 'failed')) };
      await expect(sms.verify(tampered, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a callback for another URL', async () => {
      const request = ingest(signTwilioForm(URL_BASE, SMS_DELIVERED, CREDENTIALS));
      await expect(sms.verify({ ...request, url: `${URL_BASE}x` }, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a signature made with another auth token, without revealing either', async () => {
      const request = ingest(signTwilioForm(URL_BASE, SMS_DELIVERED, { auth_token: 'another-token' }));
      const result = await sms.verify(request, CREDENTIALS);
      expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
      expect(JSON.stringify(result)).not.toContain(AUTH_TOKEN);
    });

    it('rejects a request without X-Twilio-Signature', async () => {
      const request = ingest(signTwilioForm(URL_BASE, SMS_DELIVERED, CREDENTIALS));
      await expect(sms.verify({ ...request, headers: {} }, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'missing X-Twilio-Signature' });
    });

    it('rejects everything when the connection has no auth token', async () => {
      const request = ingest(signTwilioForm(URL_BASE, SMS_DELIVERED, CREDENTIALS));
      await expect(sms.verify(request, {})).resolves.toEqual({ ok: false, reason: 'auth_token not configured' });
    });
  });

  describe('parse', () => {
    it('reads an SMS status callback', async () => {
      const parsed = await sms.parse(ingest(signTwilioForm(URL_BASE, SMS_DELIVERED, CREDENTIALS)));
      expect(parsed).toEqual({
        actions: [],
        items: [
          {
            kind: 'delivery_status',
            providerEventId: 'SM1f0e7d3b8a9c4e2f9d6b5a4c3e2f1a0b:delivered',
            providerMessageId: 'SM1f0e7d3b8a9c4e2f9d6b5a4c3e2f1a0b',
            channel: 'sms',
            status: 'delivered',
            rawStatus: 'delivered',
            errorCode: null,
            errorMessage: null,
            occurredAt: '2025-03-01T12:00:00.000Z',
            recipient: '+15558675310',
          },
        ],
      });
    });

    it('reads a failed WhatsApp message with its error, without the whatsapp: prefix', async () => {
      const params = {
        MessageSid: 'SMaaaa',
        MessageStatus: 'undelivered',
        ErrorCode: '63016',
        ErrorMessage: 'Outside the allowed window',
        From: 'whatsapp:+14155238886',
        To: 'whatsapp:+15558675310',
      };
      const parsed = await whatsapp.parse(ingest(signTwilioForm(URL_BASE, params, CREDENTIALS)));
      expect(parsed.items).toEqual([
        {
          kind: 'delivery_status',
          providerEventId: 'SMaaaa:undelivered',
          providerMessageId: 'SMaaaa',
          channel: 'whatsapp',
          status: 'failed',
          rawStatus: 'undelivered',
          errorCode: '63016',
          errorMessage: 'Outside the allowed window',
          occurredAt: '2025-03-01T12:00:00.000Z',
          recipient: '+15558675310',
        },
      ]);
    });

    it('falls back to SmsSid and SmsStatus and treats a zero error code as none', async () => {
      const parsed = await sms.parse(ingest(signTwilioForm(URL_BASE, { SmsSid: 'SMold', SmsStatus: 'sent', ErrorCode: '0' }, CREDENTIALS)));
      expect(parsed.items[0]).toMatchObject({ providerMessageId: 'SMold', status: 'sent', rawStatus: 'sent', errorCode: null });
    });

    it('reads a JSON callback', async () => {
      const parsed = await sms.parse(ingest(signTwilioJson(URL_BASE, { MessageSid: 'SM9', MessageStatus: 'read', To: '+1555' }, CREDENTIALS)));
      expect(parsed.items[0]).toMatchObject({ providerEventId: 'SM9:read', status: 'read', recipient: '+1555' });
    });

    it.each([
      ['accepted', 'queued'],
      ['scheduled', 'queued'],
      ['queued', 'queued'],
      ['sending', 'sent'],
      ['sent', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'read'],
      ['undelivered', 'failed'],
      ['failed', 'failed'],
      ['canceled', 'dropped'],
      ['partially_delivered', 'unknown'],
      ['constructor', 'unknown'],
    ])('maps MessageStatus %s to %s', async (rawStatus, status) => {
      const parsed = await sms.parse(ingest(signTwilioForm(URL_BASE, { MessageSid: 'SM1', MessageStatus: rawStatus }, CREDENTIALS)));
      expect(parsed.items[0]).toMatchObject({ status, rawStatus, providerEventId: `SM1:${rawStatus}` });
    });

    it('rejects a callback without a message sid or status as malformed', async () => {
      await expect(sms.parse(ingest(signTwilioForm(URL_BASE, { MessageStatus: 'sent' }, CREDENTIALS)))).rejects.toBeInstanceOf(MalformedCallbackError);
      await expect(sms.parse(ingest(signTwilioForm(URL_BASE, { MessageSid: 'SM1' }, CREDENTIALS)))).rejects.toBeInstanceOf(MalformedCallbackError);
    });
  });
});
