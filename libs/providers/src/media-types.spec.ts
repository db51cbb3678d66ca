import {
  gupshupMessageEvent,
  gupshupRequest,
  metaJson,
  metaStatusPayload,
  metaWebhookRequest,
  signMessagebirdJwt,
  signPlivoV3,
  sampleSendgridParsedFields,
  sendgridInboundRequest,
  SES_DELIVERY_NOTIFICATION,
  snsNotification,
  type SignedRequest,
  signTwilioForm,
  signTwilioJson,
  signVonageReceipt,
} from '@hookhub/testing';
import { declaredMediaType } from './callback-support';
import { GupshupAdapter } from './gupshup/gupshup.adapter';
import { MessagebirdAdapter } from './messagebird/messagebird.adapter';
import { MetaWhatsappAdapter } from './meta/meta-whatsapp.adapter';
import { PlivoAdapter } from './plivo/plivo.adapter';
import { UnsupportedMediaTypeError, type IngestRequest, type ProviderAdapter } from './provider-adapter';
import { SendgridInboundAdapter } from './sendgrid-inbound/sendgrid-inbound.adapter';
import { SesAdapter } from './ses/ses.adapter';
import { TwilioAdapter } from './twilio/twilio.adapter';
import { VonageAdapter } from './vonage/vonage.adapter';

const URL = 'https://hooks.example.com/ingest/x/3b5cf468-c858-404b-9e53-630e3df9d74a';
const NOW = new Date();

const ingest = (r: SignedRequest, contentType?: string | null): IngestRequest => {
  const headers: Record<string, string | undefined> = { ...r.headers };
  if (contentType !== undefined) headers['content-type'] = contentType ?? undefined;
  return { method: r.method, url: r.url, headers, rawBody: r.body, receivedAt: NOW };
};

describe('declaredMediaType', () => {
  const req = (contentType: string | undefined): IngestRequest => ({
    method: 'POST',
    url: URL,
    headers: { 'content-type': contentType },
    rawBody: Buffer.alloc(0),
    receivedAt: NOW,
  });

  it.each([
    ['application/json', 'application/json'],
    ['Application/JSON; charset=UTF-8', 'application/json'],
    ['application/json;charset="utf-8"', 'application/json'],
    ['application/json; charset=us-ascii', 'application/json'],
  ])('accepts %s as %s', (header, essence) => {
    expect(declaredMediaType(req(header), ['application/json'])).toBe(essence);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a media type', 'json'],
    ['another type', 'application/jsonp'],
    ['a suffix type', 'application/problem+json'],
    ['another charset', 'application/json; charset=iso-8859-1'],
  ])('refuses a Content-Type that is %s', (_name, header) => {
    expect(() => declaredMediaType(req(header), ['application/json'])).toThrow(UnsupportedMediaTypeError);
  });

  it('ignores a charset on multipart, whose parts carry their own', () => {
    expect(declaredMediaType(req('multipart/form-data; boundary=x; charset=latin1'), ['multipart/form-data'])).toBe('multipart/form-data');
  });
});

/**
 * Each adapter reads a body as what it declares and only as what the provider
 * sends. For each: the genuine request parses; the same signed bytes declared
 * as something else are refused as an unsupported media type.
 */
describe('adapters refuse a declared type the provider does not send', () => {
  const cases: Array<{
    name: string;
    adapter: ProviderAdapter;
    request: () => Promise<SignedRequest> | SignedRequest;
    accepted: string[];
    refused: Array<string | null>;
  }> = [
    {
      name: 'Twilio form callback',
      adapter: new TwilioAdapter('twilio_sms'),
      request: () => signTwilioForm(URL, { MessageSid: 'SM1', MessageStatus: 'delivered' }, { auth_token: 't' }),
      accepted: ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8'],
      refused: ['application/json', 'text/plain', 'multipart/form-data; boundary=x', null],
    },
    {
      name: 'Twilio JSON callback (bodySHA256)',
      adapter: new TwilioAdapter('twilio_whatsapp'),
      request: () => signTwilioJson(URL, { MessageSid: 'SM2', MessageStatus: 'read' }, { auth_token: 't' }),
      accepted: ['application/json'],
      refused: ['application/x-www-form-urlencoded', 'text/plain', null],
    },
    {
      name: 'Meta webhook',
      adapter: new MetaWhatsappAdapter(),
      request: () => metaWebhookRequest(URL, metaJson(metaStatusPayload([{ id: 'wamid.1', status: 'sent', timestamp: '1741079700', recipient_id: '1' }])), 's'),
      accepted: ['application/json'],
      refused: ['application/x-www-form-urlencoded', 'text/plain', null],
    },
    {
      name: 'Gupshup event',
      adapter: new GupshupAdapter(),
      request: () =>
        gupshupRequest(URL, gupshupMessageEvent({ type: 'sent', gupshupId: 'g1', whatsappId: 'w1', destination: '1', timestamp: 1741079700000 }), {
          name: 'authorization',
          value: 'x',
        }),
      accepted: ['application/json'],
      refused: ['application/x-www-form-urlencoded', 'text/plain', null],
    },
    {
      name: 'SNS notification',
      adapter: new SesAdapter(),
      request: () => ({
        method: 'POST',
        url: URL,
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
        body: Buffer.from(JSON.stringify(snsNotification(SES_DELIVERY_NOTIFICATION, { topicArn: 'arn:aws:sns:us-east-1:1:t' }))),
      }),
      accepted: ['text/plain; charset=UTF-8', 'application/json'],
      refused: ['application/x-www-form-urlencoded', 'text/plain; charset=utf-16', 'application/xml', null],
    },
    {
      name: 'Vonage form receipt',
      adapter: new VonageAdapter(),
      request: () =>
        signVonageReceipt(URL, { messageId: 'm1', status: 'delivered' }, { signature_secret: 's', signature_method: 'sha256' }, { transport: 'POST-form' }),
      accepted: ['application/x-www-form-urlencoded'],
      refused: ['text/plain', null],
    },
    {
      name: 'Vonage JSON receipt',
      adapter: new VonageAdapter(),
      request: () =>
        signVonageReceipt(URL, { messageId: 'm2', status: 'delivered' }, { signature_secret: 's', signature_method: 'sha256' }, { transport: 'POST-json' }),
      accepted: ['application/json'],
      refused: ['text/plain', null],
    },
    {
      name: 'MessageBird POST report',
      adapter: new MessagebirdAdapter(),
      request: () => signMessagebirdJwt(URL, { id: 'mb1', status: 'delivered' }, { signing_key: 'k' }, { method: 'POST' }),
      accepted: ['application/x-www-form-urlencoded'],
      refused: ['text/plain', 'multipart/form-data; boundary=x', null],
    },
    {
      name: 'Plivo POST report',
      adapter: new PlivoAdapter(),
      request: () => signPlivoV3(URL, { MessageUUID: 'u1', Status: 'delivered' }, { auth_token: 't' }),
      accepted: ['application/x-www-form-urlencoded'],
      refused: ['application/json', 'text/plain', null],
    },
    {
      name: 'SendGrid Inbound Parse post',
      adapter: new SendgridInboundAdapter(),
      request: () => sendgridInboundRequest(sampleSendgridParsedFields(), [], { url: URL, username: 'u', password: 'p' }),
      accepted: [],
      refused: ['application/x-www-form-urlencoded', 'application/json', null],
    },
  ];

  describe.each(cases)('$name', (c) => {
    it('parses the genuine request and the types the provider sends', async () => {
      const r = await c.request();
      expect((await c.adapter.parse(ingest(r))).items).toHaveLength(1);
      for (const type of c.accepted) expect((await c.adapter.parse(ingest(r, type))).items).toHaveLength(1);
    });

    it('refuses the same bytes declared as another type, or undeclared', async () => {
      const r = await c.request();
      for (const type of c.refused) await expect(c.adapter.parse(ingest(r, type))).rejects.toThrow(UnsupportedMediaTypeError);
    });
  });

  it('MessageBird and Vonage read a body by its declared type, never by its first byte', async () => {
    // A form value may start with "{": before, such a body was read as JSON whatever it declared.
    const mb = await signMessagebirdJwt(URL, { id: 'mb2', status: 'delivered' }, { signing_key: 'k' }, { method: 'POST' });
    const brace = { ...mb, body: Buffer.from(`{x=1&${mb.body.toString()}`) };
    expect((await new MessagebirdAdapter().parse(ingest(brace))).items[0]).toMatchObject({ providerMessageId: 'mb2' });
    const vonage = signVonageReceipt(
      URL,
      { messageId: 'v1', status: 'delivered' },
      { signature_secret: 's', signature_method: 'sha256' },
      { transport: 'POST-form' },
    );
    const vBrace = { ...vonage, body: Buffer.from(`{x=1&${vonage.body.toString()}`) };
    expect((await new VonageAdapter().parse(ingest(vBrace))).items[0]).toMatchObject({ providerMessageId: 'v1' });
  });
});
