import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { EventEnvelope } from '@hookhub/contracts';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { Connection, connectProvider, RunningIngest, send, startIngest, streamEvents } from '../support/ingest';
import { SENDGRID_MAX_BATCH_BYTES } from '@hookhub/providers';
import {
  gupshupMessageEvent,
  gupshupRequest,
  mailgunEventData,
  sampleMailgunMimeFields,
  signedMailgunEvent,
  signedMailgunRoute,
  signMessagebirdJwt,
  signMessagebirdLegacy,
  metaHandshakeRequest,
  metaJson,
  metaStatusPayload,
  metaWebhookRequest,
  signPlivoV3,
  sendgridEvent,
  sendgridKeyPair,
  signedSendgridEvents,
  sampleSendgridParsedFields,
  sampleSendgridParsedFiles,
  sendgridInboundRequest,
  SES_BOUNCE_EVENT,
  SES_DELIVERY_NOTIFICATION,
  snsNotification,
  snsSubscriptionConfirmation,
  SnsSigner,
  startSnsSigner,
  type SignedRequest,
  signTwilioForm,
  signTwilioJson,
  signVonageReceipt,
} from '@hookhub/testing';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

type StatusData = { provider_message_id: string; status: string; raw_status: string | null };

/** One provider's script: credentials, a valid callback and the ways it can be wrong. */
interface ProviderCase {
  provider: string;
  credentials: Record<string, string>;
  valid(url: string): Promise<SignedRequest> | SignedRequest;
  expected: StatusData[];
  rejected(url: string): Promise<Record<string, SignedRequest>> | Record<string, SignedRequest>;
}

const secret = (): string => randomBytes(16).toString('hex');
const flipBody = (r: SignedRequest): SignedRequest => ({ ...r, body: Buffer.from(r.body.toString('utf8').replace(/delivered/, 'delivereX')) });
const flipQuery = (r: SignedRequest): SignedRequest => ({ ...r, url: r.url.replace(/delivered/, 'failed') });
const without = (r: SignedRequest, header: string): SignedRequest => ({
  ...r,
  headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => k.toLowerCase() !== header)),
});
const tenMinutesAgo = (): Date => new Date(Date.now() - 11 * 60_000);

describe('provider ingest end to end: verify, store, normalise, publish', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let ingest: RunningIngest;
  let db: Client;
  let sns: SnsSigner;

  beforeAll(async () => {
    env = await createTestEnvironment();
    sns = await startSnsSigner();
    hub = await startHub(env);
    ingest = await startIngest(env, { INGEST_SNS_HOST_PATTERN: '^127\\.0\\.0\\.1$', INGEST_SNS_ALLOW_HTTP: true });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await ingest?.close();
    await hub?.close();
    await sns?.close();
    await db?.end();
    await env?.teardown();
  });

  const storedCallbacks = async (connectionId: string): Promise<number> =>
    Number((await db.query('SELECT count(*) AS n FROM provider_callbacks WHERE connection_id = $1', [connectionId])).rows[0].n);

  const statusEvents = (tenantId: string): Promise<EventEnvelope[]> => streamEvents(env, tenantId, 'message.delivery_status');

  const sendgridKeys = sendgridKeyPair();
  const twilioToken = secret();
  const plivoToken = secret();
  const vonageSecret = secret();
  const messagebirdKey = secret();
  const metaSecret = secret();
  const gupshupValue = `Bearer ${secret()}`;
  const topicArn = 'arn:aws:sns:us-east-1:123456789012:ses-events';
  const mailgunKey = secret();

  const cases: ProviderCase[] = [
    {
      provider: 'sendgrid',
      credentials: { public_key: sendgridKeys.publicKey },
      valid: (url) =>
        signedSendgridEvents([sendgridEvent('delivered', { sg_event_id: 'sg-evt-1' }), sendgridEvent('open', { sg_event_id: 'sg-evt-2' })], {
          url,
          privateKey: sendgridKeys.privateKey,
        }),
      expected: [
        { provider_message_id: 'LRzXl_NHStOGhQ4kofSm_A', status: 'delivered', raw_status: 'delivered' },
        { provider_message_id: 'LRzXl_NHStOGhQ4kofSm_A', status: 'opened', raw_status: 'open' },
      ],
      rejected: (url) => {
        const valid = signedSendgridEvents([sendgridEvent('delivered')], { url, privateKey: sendgridKeys.privateKey });
        return {
          'tampered body': flipBody(valid),
          'wrong key': signedSendgridEvents([sendgridEvent('delivered')], { url, privateKey: sendgridKeyPair().privateKey }),
          'stale timestamp': signedSendgridEvents([sendgridEvent('delivered')], {
            url,
            privateKey: sendgridKeys.privateKey,
            timestamp: Math.floor(tenMinutesAgo().getTime() / 1000),
          }),
          'missing signature': without(valid, 'x-twilio-email-event-webhook-signature'),
        };
      },
    },
    {
      provider: 'twilio_sms',
      credentials: { auth_token: twilioToken },
      valid: (url) =>
        signTwilioForm(
          url,
          { MessageSid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f', MessageStatus: 'delivered', To: '+15558675310', AccountSid: 'AC1' },
          { auth_token: twilioToken },
        ),
      expected: [{ provider_message_id: 'SM1f0e8ae6ade43cb3c0ce4525424e404f', status: 'delivered', raw_status: 'delivered' }],
      rejected: (url) => {
        const params = { MessageSid: 'SM1', MessageStatus: 'delivered', To: '+15558675310' };
        const valid = signTwilioForm(url, params, { auth_token: twilioToken });
        return {
          'tampered body': flipBody(valid),
          'wrong token': signTwilioForm(url, params, { auth_token: secret() }),
          'other URL signed': { ...signTwilioForm(url.replace('/ingest/', '/elsewhere/'), params, { auth_token: twilioToken }), url },
          'missing signature': without(valid, 'x-twilio-signature'),
        };
      },
    },
    {
      provider: 'twilio_whatsapp',
      credentials: { auth_token: twilioToken },
      valid: (url) =>
        signTwilioForm(
          url,
          { MessageSid: 'SMwa1', MessageStatus: 'read', To: 'whatsapp:+15558675310', ChannelPrefix: 'whatsapp' },
          { auth_token: twilioToken },
        ),
      expected: [{ provider_message_id: 'SMwa1', status: 'read', raw_status: 'read' }],
      rejected: (url) => ({
        'wrong token': signTwilioForm(url, { MessageSid: 'SMwa1', MessageStatus: 'read' }, { auth_token: secret() }),
      }),
    },
    {
      provider: 'plivo',
      credentials: { auth_token: plivoToken },
      valid: (url) =>
        signPlivoV3(url, { MessageUUID: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196', Status: 'delivered', To: '15558675310' }, { auth_token: plivoToken }),
      expected: [{ provider_message_id: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196', status: 'delivered', raw_status: 'delivered' }],
      rejected: (url) => {
        const params = { MessageUUID: 'u-1', Status: 'delivered' };
        const valid = signPlivoV3(url, params, { auth_token: plivoToken });
        return {
          'tampered body': flipBody(valid),
          'tampered GET query': flipQuery(signPlivoV3(url, params, { auth_token: plivoToken }, { method: 'GET' })),
          'wrong token': signPlivoV3(url, params, { auth_token: secret() }),
          'missing signature': without(valid, 'x-plivo-signature-v3'),
        };
      },
    },
    {
      provider: 'vonage',
      credentials: { signature_secret: vonageSecret, signature_method: 'sha256' },
      valid: (url) =>
        signVonageReceipt(
          url,
          {
            messageId: '0A0000001234567B',
            status: 'delivered',
            msisdn: '447700900000',
            to: 'Acme',
            'err-code': '0',
            'message-timestamp': '2025-03-04 09:15:00',
          },
          { signature_secret: vonageSecret, signature_method: 'sha256' },
        ),
      expected: [{ provider_message_id: '0A0000001234567B', status: 'delivered', raw_status: 'delivered' }],
      rejected: (url) => {
        const receipt = { messageId: '0A0000001234567C', status: 'delivered', msisdn: '447700900000', 'err-code': '0' };
        const credentials = { signature_secret: vonageSecret, signature_method: 'sha256' as const };
        return {
          'tampered query': flipQuery(signVonageReceipt(url, receipt, credentials)),
          'wrong secret': signVonageReceipt(url, receipt, { ...credentials, signature_secret: secret() }),
          'stale timestamp': signVonageReceipt(url, receipt, credentials, { now: tenMinutesAgo() }),
          'missing signature': {
            ...signVonageReceipt(url, receipt, credentials),
            url: signVonageReceipt(url, receipt, credentials).url.replace(/([?&])sig=[^&]*/, '$1'),
          },
        };
      },
    },
    {
      provider: 'messagebird',
      credentials: { signing_key: messagebirdKey },
      valid: (url) =>
        signMessagebirdJwt(
          url,
          {
            id: 'efa6405d518d4c0c88cce11f7db775fb',
            reference: 'ticket-53249',
            recipient: '31612345678',
            status: 'delivered',
            statusDatetime: '2025-03-04T09:15:00+00:00',
          },
          { signing_key: messagebirdKey },
        ),
      expected: [{ provider_message_id: 'efa6405d518d4c0c88cce11f7db775fb', status: 'delivered', raw_status: 'delivered' }],
      rejected: async (url) => {
        const report = { id: 'mb-2', recipient: '31612345678', status: 'delivered', statusDatetime: '2025-03-04T09:15:00+00:00' };
        const valid = await signMessagebirdJwt(url, report, { signing_key: messagebirdKey });
        return {
          'tampered query': flipQuery(valid),
          'wrong key': await signMessagebirdJwt(url, report, { signing_key: secret() }),
          'expired token': await signMessagebirdJwt(url, report, { signing_key: messagebirdKey }, { now: tenMinutesAgo() }),
          'missing signature': without(valid, 'messagebird-signature-jwt'),
          'legacy with wrong key': signMessagebirdLegacy(url, report, { signing_key: secret() }),
        };
      },
    },
    {
      provider: 'meta_whatsapp',
      credentials: { app_secret: metaSecret, verify_token: 'meta-verify-token' },
      valid: (url) =>
        metaWebhookRequest(
          url,
          metaJson(metaStatusPayload([{ id: 'wamid.HBgLMTU1NTg2NzUzMTA=', status: 'delivered', timestamp: '1741079700', recipient_id: '15558675310' }])),
          metaSecret,
        ),
      expected: [{ provider_message_id: 'wamid.HBgLMTU1NTg2NzUzMTA=', status: 'delivered', raw_status: 'delivered' }],
      rejected: (url) => {
        // Meta escapes '/' and non-ASCII: a re-serialised body differs from the signed bytes.
        const body = metaJson(
          metaStatusPayload([{ id: 'wamid.2', status: 'delivered', timestamp: '1741079700', recipient_id: '1', biz_opaque_callback_data: 'café/1' }]),
        );
        const valid = metaWebhookRequest(url, body, metaSecret);
        return {
          'tampered body': flipBody(valid),
          're-serialised body': { ...valid, body: Buffer.from(JSON.stringify(JSON.parse(body))) },
          'wrong secret': metaWebhookRequest(url, body, secret()),
          'missing signature': without(valid, 'x-hub-signature-256'),
        };
      },
    },
    {
      provider: 'gupshup',
      credentials: { header_name: 'Authorization', header_value: gupshupValue },
      valid: (url) =>
        gupshupRequest(
          url,
          gupshupMessageEvent({
            type: 'delivered',
            gupshupId: 'gs-59f8db90',
            whatsappId: 'wamid.g1',
            destination: '15558675310',
            timestamp: 1741079700000,
            ts: 1741079700,
          }),
          { name: 'Authorization', value: gupshupValue },
        ),
      expected: [{ provider_message_id: 'gs-59f8db90', status: 'delivered', raw_status: 'delivered' }],
      rejected: (url) => {
        const event = gupshupMessageEvent({ type: 'delivered', gupshupId: 'gs-2', whatsappId: 'wamid.g2', destination: '1', timestamp: 1741079700000 });
        return {
          'wrong header value': gupshupRequest(url, event, { name: 'Authorization', value: 'Bearer nope' }),
          'missing header': without(gupshupRequest(url, event, { name: 'Authorization', value: gupshupValue }), 'authorization'),
        };
      },
    },
    {
      provider: 'ses',
      credentials: { topic_arn: topicArn },
      valid: (url) => sns.request(url, snsNotification(SES_DELIVERY_NOTIFICATION, { topicArn, messageId: 'sns-msg-1' })),
      expected: [
        { provider_message_id: (SES_DELIVERY_NOTIFICATION as { mail: { messageId: string } }).mail.messageId, status: 'delivered', raw_status: 'Delivery' },
      ],
      rejected: (url) => {
        const valid = sns.request(url, snsNotification(SES_DELIVERY_NOTIFICATION, { topicArn, messageId: 'sns-msg-2' }));
        const other = sns.request(url, snsNotification(SES_DELIVERY_NOTIFICATION, { topicArn: `${topicArn}-other`, messageId: 'sns-msg-3' }));
        const signed = JSON.parse(valid.body.toString('utf8')) as Record<string, string>;
        return {
          'tampered message': { ...valid, body: Buffer.from(JSON.stringify({ ...signed, Message: signed.Message.replace('Delivery', 'Bounce') })) },
          'other topic': other,
          'missing signature': { ...valid, body: Buffer.from(JSON.stringify({ ...signed, Signature: undefined })) },
          'certificate from elsewhere': { ...valid, body: Buffer.from(JSON.stringify({ ...signed, SigningCertURL: 'http://example.com/cert.pem' })) },
        };
      },
    },
    {
      provider: 'mailgun',
      credentials: { signing_key: mailgunKey },
      valid: (url) => signedMailgunEvent(mailgunEventData('delivered'), { url, signingKey: mailgunKey }),
      expected: [{ provider_message_id: '20250304091500.1.ABCDEF@acme.example.com', status: 'delivered', raw_status: 'delivered' }],
      rejected: (url) => {
        const valid = signedMailgunEvent(mailgunEventData('failed'), { url, signingKey: mailgunKey });
        const signed = JSON.parse(valid.body.toString('utf8')) as { signature: Record<string, string> };
        return {
          'wrong key': signedMailgunEvent(mailgunEventData('failed'), { url, signingKey: secret() }),
          'stale timestamp': signedMailgunEvent(mailgunEventData('failed'), {
            url,
            signingKey: mailgunKey,
            timestamp: Math.floor(tenMinutesAgo().getTime() / 1000),
          }),
          'tampered token': { ...valid, body: Buffer.from(JSON.stringify({ ...signed, signature: { ...signed.signature, token: 'x'.repeat(50) } })) },
          'missing signature': { ...valid, body: Buffer.from(JSON.stringify({ 'event-data': mailgunEventData('failed') })) },
        };
      },
    },
  ];

  describe.each(cases)('$provider', (c) => {
    let tenant: { tenantId: string; adminKey: string };
    let connection: Connection;

    beforeAll(async () => {
      tenant = await hub.api.createTenant(`ingest-${c.provider}`);
      connection = await connectProvider(hub.api, tenant.adminKey, ingest, c.provider, c.credentials);
    });

    it('rejects forged, tampered, stale and unsigned callbacks with 401 problems, storing and publishing nothing', async () => {
      const rejected = await c.rejected(connection.url);
      for (const [name, req] of Object.entries(rejected)) {
        const res = await send(req);
        expect({ name, status: res.status, type: res.contentType }).toEqual({ name, status: 401, type: expect.stringContaining('application/problem+json') });
        expect(JSON.parse(res.text)).toMatchObject({ status: 401, type: 'https://hookhub.dev/problems/unauthorized' });
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(await storedCallbacks(connection.id)).toBe(0);
      expect(await statusEvents(tenant.tenantId)).toEqual([]);
    });

    it('accepts a signed callback and publishes exactly its normalised events, once even when it comes twice', async () => {
      const req = await c.valid(connection.url);
      const first = await send(req);
      expect(first.status).toBe(200);
      const again = await send(req);
      expect(again.status).toBe(200);
      expect(JSON.parse(again.text)).toEqual({ received: true, duplicate: true });

      await eventually(async () => expect(await statusEvents(tenant.tenantId)).toHaveLength(c.expected.length), 10_000);
      await new Promise((r) => setTimeout(r, 300));
      const events = await statusEvents(tenant.tenantId);
      expect(events.map((e) => ({ provider_message_id: e.data.provider_message_id, status: e.data.status, raw_status: e.data.raw_status }))).toEqual(
        c.expected,
      );
      for (const e of events) {
        expect(e).toMatchObject({
          account_id: tenant.tenantId,
          type: 'message.delivery_status',
          model_type: 'message',
          actor_type: 'provider',
          actor_id: connection.id,
        });
        expect(e.data).toMatchObject({ provider: c.provider, connection_id: connection.id });
        expect(typeof e.data.occurred_at).toBe('string');
      }
      expect(await storedCallbacks(connection.id)).toBe(1);
      const listed = await hub.api.request<{ items: { state: string; event_ids: string[] }[] }>('GET', `/v1/provider-connections/${connection.id}/callbacks`, {
        token: tenant.adminKey,
      });
      expect(listed.body.items).toHaveLength(1);
      expect(listed.body.items[0].state).toBe('processed');
      expect(listed.body.items[0].event_ids).toEqual(events.map((e) => e.id));
    });
  });

  /**
   * Each provider's largest post, as documented: SendGrid batches until 768 KB;
   * Meta's webhook payloads reach 3 MB and batch up to 1000 updates; Mailgun
   * posts one event per webhook but forwards messages up to 25 MB to Routes;
   * SNS messages reach 256 KB, and an SES message has up to 50 recipients.
   * Each must be accepted and give one event per report, published once each,
   * in the provider's order.
   */
  describe('the largest callbacks the providers send', () => {
    const BIG_TIMEOUT = 180_000;

    /** Waits until the callback is processed and returns the events it published, oldest first. */
    const publishedFor = async (
      tenant: { tenantId: string; adminKey: string },
      connection: Connection,
      type: string,
      count: number,
    ): Promise<EventEnvelope[]> => {
      let eventIds: string[] = [];
      await eventually(
        async () => {
          const listed = await hub.api.request<{ items: { state: string; event_ids: string[]; last_error: string | null }[] }>(
            'GET',
            `/v1/provider-connections/${connection.id}/callbacks`,
            {
              token: tenant.adminKey,
            },
          );
          expect(listed.body.items).toHaveLength(1);
          expect(listed.body.items[0]).toMatchObject({ state: 'processed' });
          eventIds = listed.body.items[0].event_ids;
        },
        120_000,
        250,
      );
      // Processed by its first run, within the lease it was stored with: no takeover by the sweeper.
      const stored = await db.query(
        'SELECT attempts, EXTRACT(EPOCH FROM processed_at - received_at) AS secs FROM provider_callbacks WHERE connection_id = $1',
        [connection.id],
      );
      if (process.env.INGEST_TIMING) process.stdout.write(`processing took ${stored.rows[0].secs}s\n`);
      expect(stored.rows[0].attempts).toBe(1);
      const events = await streamEvents(env, tenant.tenantId, type);
      expect(events).toHaveLength(count);
      // Each once, in order, and exactly the ones the callback records.
      expect(events.map((e) => e.id)).toEqual(eventIds);
      expect(new Set(eventIds).size).toBe(count);
      return events;
    };

    it(
      'SendGrid: a signed 768 KB batch of thousands of events (not capped at 128) publishes every event once, in order',
      async () => {
        const tenant = await hub.api.createTenant('max-sendgrid');
        const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'sendgrid', { public_key: sendgridKeys.publicKey });
        const kinds = ['processed', 'delivered', 'open', 'click', 'bounce'];
        const events: Record<string, unknown>[] = [];
        let size = 2; // "[" "]" and the CRLF SendGrid appends
        for (let i = 0; ; i++) {
          const event = sendgridEvent(kinds[i % kinds.length], {
            sg_event_id: `max-${i}`,
            sg_message_id: `maxmsg${i}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0`,
            email: `c${i}@customer.example`,
          });
          const added = JSON.stringify(event).length + 1;
          if (size + added + 2 > SENDGRID_MAX_BATCH_BYTES) break;
          events.push(event);
          size += added;
        }
        const req = signedSendgridEvents(events, { url: connection.url, privateKey: sendgridKeys.privateKey });
        expect(req.body.length).toBeLessThanOrEqual(SENDGRID_MAX_BATCH_BYTES);
        expect(req.body.length).toBeGreaterThan(SENDGRID_MAX_BATCH_BYTES - 1_000);
        expect(events.length).toBeGreaterThan(128);

        const res = await send(req);
        expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: JSON.stringify({ received: true, duplicate: false }) });
        const published = await publishedFor(tenant, connection, 'message.delivery_status', events.length);
        expect(published.map((e) => [e.data.provider_message_id, e.data.raw_status])).toEqual(events.map((e, i) => [`maxmsg${i}`, e.event]));
      },
      BIG_TIMEOUT,
    );

    it(
      'Meta: a signed 3 MB webhook with 1000 status updates publishes every update once, in order',
      async () => {
        const tenant = await hub.api.createTenant('max-meta');
        const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'meta_whatsapp', { app_secret: metaSecret, verify_token: 'v' });
        const LIMIT = 3 * 1024 * 1024;
        const status = (i: number, details: string) => ({
          id: `wamid.max${i}`,
          status: 'failed',
          timestamp: String(1741079700 + i),
          recipient_id: '15558675310',
          errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details } }],
        });
        const bodyOf = (pad: number) =>
          metaJson(metaStatusPayload(Array.from({ length: 1000 }, (_, i) => status(i, `Receiver is incapable of receiving this message ${'·'.repeat(pad)}`))));
        // "·" is escaped as \u00b7 (6 bytes), as Meta's serialiser does: pad to just under 3 MB.
        const pad = Math.floor((LIMIT - bodyOf(0).length) / 1000 / 6);
        const body = bodyOf(pad);
        expect(body.length).toBeLessThanOrEqual(LIMIT);
        expect(body.length).toBeGreaterThan(LIMIT - 10_000);

        const res = await send(metaWebhookRequest(connection.url, body, metaSecret));
        expect(res.status).toBe(200);
        const published = await publishedFor(tenant, connection, 'message.delivery_status', 1000);
        expect(published.map((e) => e.data.provider_message_id)).toEqual(Array.from({ length: 1000 }, (_, i) => `wamid.max${i}`));
        expect(published[999].data).toMatchObject({ status: 'failed', error_code: '131026' });
      },
      BIG_TIMEOUT,
    );

    it(
      'Mailgun: a signed Routes post of a 25 MB raw MIME message (above the old 25 MiB form cap) becomes a ticket and its message',
      async () => {
        const tenant = await hub.api.createTenant('max-mailgun');
        const signingKey = secret();
        const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'mailgun', { signing_key: signingKey });
        const MESSAGE_BYTES = 25 * 1024 * 1024;
        const head = [
          'From: Big Sender <big@customer.example>',
          'To: support@acme.example.com',
          'Subject: the whole archive',
          'Date: Tue, 04 Mar 2025 10:15:00 +0100',
          'Message-ID: <max-mailgun@customer.example>',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="b"',
          '',
          '--b',
          'Content-Type: text/plain; charset=UTF-8',
          '',
          'Attached.',
          '--b',
          'Content-Type: application/zip; name="archive.zip"',
          'Content-Disposition: attachment; filename="archive.zip"',
          'Content-Transfer-Encoding: base64',
          '',
          '',
        ].join('\r\n');
        const tail = '\r\n--b--\r\n';
        // 76-character base64 lines, as MTAs write them, filling the message to 25 MiB.
        const lines = Math.floor((MESSAGE_BYTES - head.length - tail.length) / 78);
        const raw = randomBytes(lines * 57);
        const base64 = raw.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '');
        const mime = head + base64 + tail;
        expect(mime.length).toBeLessThanOrEqual(MESSAGE_BYTES);
        expect(mime.length).toBeGreaterThan(MESSAGE_BYTES - 100);

        const fields = {
          recipient: 'support@acme.example.com',
          sender: 'big@customer.example',
          from: 'Big Sender <big@customer.example>',
          subject: 'the whole archive',
          'body-mime': mime,
        };
        const req = await signedMailgunRoute(fields, { url: connection.url, signingKey, multipart: true });
        expect(req.body.length).toBeGreaterThan(25 * 1024 * 1024);
        const res = await send(req);
        expect({ status: res.status, text: res.text.slice(0, 300) }).toMatchObject({ status: 200 });
        const [ticket, message] = await publishedFor(tenant, connection, '*', 2);
        expect(ticket).toMatchObject({ type: 'ticket.created', model: { subject: 'the whole archive' } });
        expect(message).toMatchObject({
          type: 'message.created',
          model: {
            ticket_id: ticket.model_id,
            body: 'Attached.',
            attachments: [{ filename: 'archive.zip', content_type: 'application/zip', size: raw.length }],
          },
        });
      },
      BIG_TIMEOUT,
    );

    it(
      'SES via SNS: a signed 256 KB notification of a bounce to 50 recipients publishes one event per recipient, once, in order',
      async () => {
        const tenant = await hub.api.createTenant('max-ses');
        const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'ses', { topic_arn: topicArn });
        const SNS_MAX = 256 * 1024;
        const recipients = Array.from({ length: 50 }, (_, i) => `r${i}@customer.example`);
        const bounce = (pad: number) => ({
          ...SES_BOUNCE_EVENT,
          bounce: {
            ...(SES_BOUNCE_EVENT as { bounce: Record<string, unknown> }).bounce,
            bouncedRecipients: recipients.map((emailAddress) => ({
              emailAddress,
              action: 'failed',
              status: '5.1.1',
              diagnosticCode: `smtp; 550 5.1.1 user unknown ${'x'.repeat(pad)}`,
            })),
          },
          mail: { ...(SES_BOUNCE_EVENT as { mail: Record<string, unknown> }).mail, destination: recipients },
        });
        const pad = Math.floor((SNS_MAX - JSON.stringify(bounce(0)).length) / 50);
        const message = JSON.stringify(bounce(pad));
        expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MAX);
        expect(Buffer.byteLength(message)).toBeGreaterThan(SNS_MAX - 100);

        const res = await send(sns.request(connection.url, snsNotification(message, { topicArn, messageId: 'sns-max-1' })));
        expect(res.status).toBe(200);
        const published = await publishedFor(tenant, connection, 'message.delivery_status', 50);
        expect(published.map((e) => e.data.recipient)).toEqual(recipients);
        expect(published.every((e) => e.data.status === 'bounced')).toBe(true);
      },
      BIG_TIMEOUT,
    );
  });

  /**
   * A body is read as what its Content-Type declares, and that must be what
   * the provider sends. A correctly signed body declared as something else
   * (Twilio's form sent as application/json was stored and published) gets a
   * 415 problem and changes nothing. Where the signature is inside the body
   * (Mailgun, Vonage POST), a body read as the wrong kind carries no
   * signature: 401, nothing stored either.
   */
  describe('a declared content type the provider does not send', () => {
    const retyped = (r: SignedRequest, contentType: string): SignedRequest => ({ ...r, headers: { ...r.headers, 'content-type': contentType } });
    const mismatches: Array<{
      provider: string;
      credentials: () => Record<string, string>;
      request: (url: string) => Promise<SignedRequest> | SignedRequest;
      status: number;
    }> = [
      {
        provider: 'sendgrid',
        credentials: () => ({ public_key: sendgridKeys.publicKey }),
        request: (url) =>
          retyped(
            signedSendgridEvents([sendgridEvent('delivered', { sg_event_id: 'ct-1' })], { url, privateKey: sendgridKeys.privateKey }),
            'application/x-www-form-urlencoded',
          ),
        status: 415,
      },
      {
        provider: 'twilio_sms',
        credentials: () => ({ auth_token: twilioToken }),
        request: (url) => retyped(signTwilioForm(url, { MessageSid: 'SMct', MessageStatus: 'delivered' }, { auth_token: twilioToken }), 'application/json'),
        status: 415,
      },
      {
        provider: 'twilio_whatsapp',
        credentials: () => ({ auth_token: twilioToken }),
        request: (url) =>
          retyped(signTwilioJson(url, { MessageSid: 'SMctj', MessageStatus: 'read' }, { auth_token: twilioToken }), 'application/x-www-form-urlencoded'),
        status: 415,
      },
      {
        provider: 'meta_whatsapp',
        credentials: () => ({ app_secret: metaSecret, verify_token: 'v' }),
        request: (url) =>
          retyped(
            metaWebhookRequest(url, metaJson(metaStatusPayload([{ id: 'wamid.ct', status: 'sent', timestamp: '1741079700', recipient_id: '1' }])), metaSecret),
            'text/plain',
          ),
        status: 415,
      },
      {
        provider: 'gupshup',
        credentials: () => ({ header_name: 'Authorization', header_value: gupshupValue }),
        request: (url) =>
          retyped(
            gupshupRequest(
              url,
              gupshupMessageEvent({ type: 'sent', gupshupId: 'gs-ct', whatsappId: 'wamid.gct', destination: '1', timestamp: 1741079700000 }),
              { name: 'Authorization', value: gupshupValue },
            ),
            'application/x-www-form-urlencoded',
          ),
        status: 415,
      },
      {
        provider: 'ses',
        credentials: () => ({ topic_arn: topicArn }),
        request: (url) =>
          retyped(sns.request(url, snsNotification(SES_DELIVERY_NOTIFICATION, { topicArn, messageId: 'sns-ct' })), 'application/x-www-form-urlencoded'),
        status: 415,
      },
      {
        provider: 'plivo',
        credentials: () => ({ auth_token: plivoToken }),
        request: (url) => retyped(signPlivoV3(url, { MessageUUID: 'u-ct', Status: 'delivered' }, { auth_token: plivoToken }), 'application/json'),
        status: 415,
      },
      {
        provider: 'messagebird',
        credentials: () => ({ signing_key: messagebirdKey }),
        request: async (url) =>
          retyped(await signMessagebirdJwt(url, { id: 'mb-ct', status: 'delivered' }, { signing_key: messagebirdKey }, { method: 'POST' }), 'text/plain'),
        status: 415,
      },
      {
        provider: 'sendgrid_inbound',
        credentials: () => ({ username: 'parse', password: 'ct-password' }),
        request: async (url) =>
          retyped(
            await sendgridInboundRequest(sampleSendgridParsedFields(), [], { url, username: 'parse', password: 'ct-password' }),
            'application/x-www-form-urlencoded',
          ),
        status: 415,
      },
      {
        provider: 'vonage',
        credentials: () => ({ signature_secret: vonageSecret, signature_method: 'sha256' }),
        request: (url) =>
          retyped(
            signVonageReceipt(
              url,
              { messageId: 'v-ct', status: 'delivered' },
              { signature_secret: vonageSecret, signature_method: 'sha256' },
              { transport: 'POST-json' },
            ),
            'application/x-www-form-urlencoded',
          ),
        status: 401,
      },
      {
        provider: 'mailgun',
        credentials: () => ({ signing_key: mailgunKey }),
        request: (url) => retyped(signedMailgunEvent(mailgunEventData('delivered'), { url, signingKey: mailgunKey }), 'text/plain'),
        status: 401,
      },
    ];

    it.each(mismatches)('$provider: a correctly signed body declared as another type is refused ($status problem), nothing stored or published', async (m) => {
      const tenant = await hub.api.createTenant(`ct-${m.provider}`);
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, m.provider, m.credentials());
      const req = await m.request(connection.url);
      const res = await send(req);
      expect({ status: res.status, type: res.contentType }).toEqual({ status: m.status, type: expect.stringContaining('application/problem+json') });
      expect(JSON.parse(res.text)).toMatchObject({
        status: m.status,
        type: m.status === 415 ? 'https://hookhub.dev/problems/unsupported-media-type' : 'https://hookhub.dev/problems/unauthorized',
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(await storedCallbacks(connection.id)).toBe(0);
      expect(await streamEvents(env, tenant.tenantId)).toEqual([]);
    });

    it('twilio_sms: the same signed form with its true type is accepted, so the refusal is about the declared type alone', async () => {
      const tenant = await hub.api.createTenant('ct-twilio-ok');
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'twilio_sms', { auth_token: twilioToken });
      const form = signTwilioForm(connection.url, { MessageSid: 'SMct2', MessageStatus: 'delivered' }, { auth_token: twilioToken });
      expect((await send(retyped(form, 'application/json'))).status).toBe(415);
      expect((await send(form)).status).toBe(200);
      await eventually(async () => expect(await statusEvents(tenant.tenantId)).toHaveLength(1));
    });
  });

  describe('handshakes and confirmations', () => {
    it("answers Meta's GET challenge only with the right verify token", async () => {
      const tenant = await hub.api.createTenant('meta-handshake');
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'meta_whatsapp', { app_secret: metaSecret, verify_token: 'right-token' });
      const ok = await send(metaHandshakeRequest(connection.url, { verifyToken: 'right-token', challenge: '1158201444' }));
      expect(ok).toEqual({ status: 200, contentType: expect.stringContaining('text/plain'), text: '1158201444' });
      const wrong = await send(metaHandshakeRequest(connection.url, { verifyToken: 'wrong-token', challenge: '1158201444' }));
      expect(wrong.status).toBe(403);
      expect(wrong.text).not.toContain('1158201444');
      expect(JSON.parse(wrong.text)).toMatchObject({ status: 403 });
    });

    it('confirms an SNS subscription by fetching its SubscribeURL, and publishes nothing for it', async () => {
      const tenant = await hub.api.createTenant('sns-confirm');
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'ses', { topic_arn: topicArn });
      const subscribeUrl = sns.subscribeUrl(topicArn);
      const res = await send(sns.request(connection.url, snsSubscriptionConfirmation('SubscriptionConfirmation', { topicArn, subscribeUrl })));
      expect(res.status).toBe(200);
      await eventually(() => expect(sns.confirmations).toContain(subscribeUrl), 10_000);
      const unsubscribe = await send(
        sns.request(connection.url, snsSubscriptionConfirmation('UnsubscribeConfirmation', { topicArn, subscribeUrl: sns.subscribeUrl(topicArn) })),
      );
      expect(unsubscribe.status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(await streamEvents(env, tenant.tenantId)).toEqual([]);
      expect(sns.confirmations.filter((u) => u === subscribeUrl)).toHaveLength(1);
    });
  });

  describe('errors', () => {
    it('answers unknown connections and providers with 404 problems', async () => {
      const tenant = await hub.api.createTenant('errors');
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'twilio_sms', { auth_token: twilioToken });
      const missing = await send({
        method: 'POST',
        url: `${ingest.baseUrl}/ingest/twilio_sms/00000000-0000-4000-8000-000000000000`,
        headers: {},
        body: Buffer.from('a=b'),
      });
      expect(missing.status).toBe(404);
      expect(missing.contentType).toContain('application/problem+json');
      const wrongProvider = await send({ method: 'POST', url: connection.url.replace('/twilio_sms/', '/plivo/'), headers: {}, body: Buffer.from('a=b') });
      expect(wrongProvider.status).toBe(404);
      const notUuid = await send({ method: 'POST', url: `${ingest.baseUrl}/ingest/twilio_sms/nope`, headers: {}, body: Buffer.from('a=b') });
      expect(notUuid.status).toBe(404);
    });

    it('answers a signed but unreadable body with a 400 problem and stores nothing', async () => {
      const tenant = await hub.api.createTenant('malformed');
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'meta_whatsapp', { app_secret: metaSecret, verify_token: 't' });
      const res = await send(metaWebhookRequest(connection.url, '{"object": "whatsapp_business_account", "entry": [', metaSecret));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ status: 400, type: 'https://hookhub.dev/problems/malformed-callback' });
      expect(await storedCallbacks(connection.id)).toBe(0);
    });

    it('never returns secret credentials, and rejects credentials the provider does not have', async () => {
      const tenant = await hub.api.createTenant('secrets');
      const token = secret();
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'plivo', { auth_token: token });
      expect(JSON.stringify(connection.body)).not.toContain(token);
      expect(connection.body).toMatchObject({ provider: 'plivo', credentials: {}, secrets_set: ['auth_token'] });
      const got = await hub.api.request('GET', `/v1/provider-connections/${connection.id}`, { token: tenant.adminKey });
      expect(got.text).not.toContain(token);
      const bad = await hub.api.request('POST', '/v1/provider-connections', {
        token: tenant.adminKey,
        body: { provider: 'plivo', credentials: { api_key: 'x' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({
        errors: expect.arrayContaining([
          { pointer: '#/credentials/api_key', detail: expect.any(String) },
          { pointer: '#/credentials/auth_token', detail: 'is required' },
        ]),
      });
    });
  });

  it('reprocesses a stored callback on request without publishing its events twice', async () => {
    const tenant = await hub.api.createTenant('reprocess');
    const token = secret();
    const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'twilio_sms', { auth_token: token });
    expect(
      (await send(signTwilioForm(connection.url, { MessageSid: 'SMre', MessageStatus: 'undelivered', ErrorCode: '30003' }, { auth_token: token }))).status,
    ).toBe(200);
    await eventually(async () => expect(await statusEvents(tenant.tenantId)).toHaveLength(1));
    const [callback] = (
      await hub.api.request<{ items: { id: string }[] }>('GET', `/v1/provider-connections/${connection.id}/callbacks`, { token: tenant.adminKey })
    ).body.items;
    const detail = await hub.api.request<{ body: string; body_encoding: string; headers: Record<string, string> }>(
      'GET',
      `/v1/provider-connections/${connection.id}/callbacks/${callback.id}`,
      { token: tenant.adminKey },
    );
    expect(detail.body.body_encoding).toBe('utf8');
    expect(detail.body.body).toContain('MessageSid=SMre');
    expect(detail.body.headers['x-twilio-signature']).toBeDefined();
    const res = await hub.api.request('POST', `/v1/provider-connections/${connection.id}/callbacks/${callback.id}/reprocess`, { token: tenant.adminKey });
    expect(res.status).toBe(202);
    await eventually(async () => {
      const again = await hub.api.request<{ state: string; attempts: number }>('GET', `/v1/provider-connections/${connection.id}/callbacks/${callback.id}`, {
        token: tenant.adminKey,
      });
      expect(again.body).toMatchObject({ state: 'processed', attempts: 1 });
    });
    const events = await statusEvents(tenant.tenantId);
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ status: 'failed', raw_status: 'undelivered', error_code: '30003' });
  });

  it('turns an inbound email reply into message.created on the ticket it answers, delivered to subscribers', async () => {
    const tenant = await hub.api.createTenant('inbound');
    const receiver = await new TestReceiver().start();
    try {
      const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
        token: tenant.adminKey,
        body: { url: `${receiver.url}/hooks`, event_types: ['message.created', 'ticket.created'] },
      });
      expect(sub.status).toBe(201);
      // The hub's own outgoing message on ticket 53249, with the Message-ID the customer replies to.
      const ticketId = 'ticket-53249';
      const publish = async (body: Record<string, unknown>): Promise<void> => {
        const res = await hub.api.request('POST', '/v1/events', { token: tenant.adminKey, body });
        expect(res.status).toBe(202);
      };
      await publish({
        id: 'evt-t',
        type: 'ticket.created',
        created_at: '2025-03-04T08:00:00Z',
        model_id: ticketId,
        model: { id: ticketId, state: 'open', subject: 'Your ticket #53249' },
      });
      await publish({
        id: 'evt-m',
        type: 'message.created',
        created_at: '2025-03-04T08:01:00Z',
        model_id: 'msg-out-1',
        model: { id: 'msg-out-1', ticket_id: ticketId, direction: 'outbound', channel: 'email', email_message_id: 'ticket-53249.msg-1@acme.example.com' },
      });
      await receiver.waitFor(2);

      const signingKey = secret();
      const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'mailgun', { signing_key: signingKey });
      const res = await send(await signedMailgunRoute(sampleMailgunMimeFields(), { url: connection.url, signingKey }));
      expect(res.status).toBe(200);

      await receiver.waitFor(3);
      const delivered = receiver.requests.map((r) => r.json() as EventEnvelope);
      const reply = delivered.find((e) => e.type === 'message.created' && e.actor_type === 'provider');
      expect(reply).toBeDefined();
      expect(reply!.model).toMatchObject({
        ticket_id: ticketId,
        direction: 'inbound',
        channel: 'email',
        in_reply_to: 'ticket-53249.msg-1@acme.example.com',
        email_message_id: 'CAF7k2=reply-53249@mail.customer.example',
        attachments: [{ filename: 'receipt.pdf', content_type: 'application/pdf', size: expect.any(Number) }],
      });
      expect(delivered.filter((e) => e.type === 'ticket.created')).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });

  it('starts a new ticket for an inbound email that replies to nothing known', async () => {
    const tenant = await hub.api.createTenant('inbound-new');
    const signingKey = secret();
    const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'mailgun', { signing_key: signingKey });
    expect((await send(await signedMailgunRoute(sampleMailgunMimeFields(), { url: connection.url, signingKey }))).status).toBe(200);
    await eventually(async () => expect(await streamEvents(env, tenant.tenantId)).toHaveLength(2));
    const [ticket, message] = await streamEvents(env, tenant.tenantId);
    expect(ticket).toMatchObject({ type: 'ticket.created', model: { state: 'open', subject: 'Re: Your ticket #53249 — receipt' } });
    expect(message).toMatchObject({ type: 'message.created', model: { ticket_id: ticket.model_id, direction: 'inbound' } });
  });

  it('reads a SendGrid Inbound Parse post (Basic auth) into a new ticket and message, and refuses a wrong password', async () => {
    const tenant = await hub.api.createTenant('sendgrid-inbound');
    const password = secret();
    const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'sendgrid_inbound', { username: 'parse', password });
    const wrong = await send(
      await sendgridInboundRequest(sampleSendgridParsedFields(), sampleSendgridParsedFiles(), { url: connection.url, username: 'parse', password: 'guess' }),
    );
    expect(wrong.status).toBe(401);
    expect(await storedCallbacks(connection.id)).toBe(0);

    const ok = await send(
      await sendgridInboundRequest(sampleSendgridParsedFields(), sampleSendgridParsedFiles(), { url: connection.url, username: 'parse', password }),
    );
    expect(ok.status).toBe(200);
    await eventually(async () => expect(await streamEvents(env, tenant.tenantId)).toHaveLength(2));
    const [ticket, message] = await streamEvents(env, tenant.tenantId);
    expect(ticket.type).toBe('ticket.created');
    expect(message).toMatchObject({
      type: 'message.created',
      model: {
        ticket_id: ticket.model_id,
        subject: 'Re: Your ticket #53249 — receipt',
        body: 'Thanks, that fixed it. Receipt attached.',
        attachments: [{ filename: 'receipt.pdf', content_type: 'application/pdf', size: expect.any(Number) }],
      },
    });
    const stored = await db.query('SELECT headers FROM provider_callbacks WHERE connection_id = $1', [connection.id]);
    expect(JSON.stringify(stored.rows[0].headers)).not.toMatch(/authorization/i);
  });

  it("attaches a delivery status to the hub's message that carries the provider's message id", async () => {
    const tenant = await hub.api.createTenant('status-link');
    const token = secret();
    const connection = await connectProvider(hub.api, tenant.adminKey, ingest, 'twilio_sms', { auth_token: token });
    const model = { id: 'msg-sms-1', ticket_id: 'ticket-9', direction: 'outbound', channel: 'sms', body: 'Your code is 1234', provider_message_id: 'SMlinked' };
    const published = await hub.api.request('POST', '/v1/events', {
      token: tenant.adminKey,
      body: { id: 'evt-sms-1', type: 'message.created', created_at: '2025-03-04T09:00:00Z', model_id: model.id, model },
    });
    expect(published.status).toBe(202);
    await eventually(async () => {
      const rows = await db.query(`SELECT 1 FROM snapshots WHERE model_type = 'message' AND model_id = 'msg-sms-1' AND tenant_id = $1`, [tenant.tenantId]);
      expect(rows.rowCount).toBe(1);
    });
    expect((await send(signTwilioForm(connection.url, { MessageSid: 'SMlinked', MessageStatus: 'delivered' }, { auth_token: token }))).status).toBe(200);
    await eventually(async () => expect(await statusEvents(tenant.tenantId)).toHaveLength(1));
    const [status] = await statusEvents(tenant.tenantId);
    expect(status).toMatchObject({
      model_id: 'msg-sms-1',
      model: { ...model, delivery_status: 'delivered' },
      data: { provider_message_id: 'SMlinked', status: 'delivered' },
    });
  });

  it('checks URL signatures against the public URL behind a proxy: configured public_url, or X-Forwarded-* when trusted', async () => {
    const tenant = await hub.api.createTenant('proxy');
    const token = secret();
    const created = await hub.api.request<{ id: string; ingest_path: string }>('POST', '/v1/provider-connections', {
      token: tenant.adminKey,
      body: { provider: 'twilio_sms', credentials: { auth_token: token } },
    });
    const publicUrl = `https://hooks.acme.example${created.body.ingest_path}`;
    const signed = signTwilioForm(publicUrl, { MessageSid: 'SMproxy', MessageStatus: 'sent' }, { auth_token: token });
    const viaProxy = (base: string): SignedRequest => ({
      ...signed,
      url: base + created.body.ingest_path,
      headers: { ...signed.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hooks.acme.example' },
    });

    // Not trusted: the forwarded headers are ignored, so the URL seen is the loopback one.
    expect((await send(viaProxy(ingest.baseUrl))).status).toBe(401);
    const trusting = await startIngest(env, { TRUST_PROXY: true });
    try {
      expect((await send(viaProxy(trusting.baseUrl))).status).toBe(200);
    } finally {
      await trusting.close();
    }
    // A configured public URL wins over whatever the request says.
    await hub.api.request('PATCH', `/v1/provider-connections/${created.body.id}`, { token: tenant.adminKey, body: { public_url: publicUrl } });
    const direct = signTwilioForm(publicUrl, { MessageSid: 'SMproxy', MessageStatus: 'delivered' }, { auth_token: token });
    expect((await send({ ...direct, url: ingest.baseUrl + created.body.ingest_path })).status).toBe(200);
  });
});
