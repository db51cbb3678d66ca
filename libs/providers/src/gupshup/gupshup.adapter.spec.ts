import { gupshupMessageEvent, gupshupRequest, type SignedRequest } from '@hookhub/testing';
import { IngestRequest, MalformedCallbackError } from '../provider-adapter';
import { GupshupAdapter } from './gupshup.adapter';

const URL_BASE = 'https://ingest.hookhub.test/ingest/gupshup/6f4d2a1c-0b7e-4c55-8e0a-3d2b1c9f8e77';
const HEADER = { name: 'Authorization', value: 'Bearer gs-callback-3c9f1e2a' };
const credentials = { header_name: 'authorization', header_value: HEADER.value };
const receivedAt = new Date('2025-06-16T00:00:00.000Z');

const GUPSHUP_ID = 'ee4a68a0-1203-4c85-8dc3-49d0b3226a35';
const WAMID = 'gBEGkYaYVSEEAgnZxQ3JmKK6Wvg';

function ingest(req: SignedRequest): IngestRequest {
  return { method: req.method, url: req.url, headers: { ...req.headers }, rawBody: req.body, receivedAt };
}

function event(type: string, extra: Partial<Parameters<typeof gupshupMessageEvent>[0]> = {}): Record<string, unknown> {
  return gupshupMessageEvent({ type, gupshupId: GUPSHUP_ID, whatsappId: WAMID, destination: '918x98xx21x4', timestamp: 1580546677791, ...extra });
}

describe('GupshupAdapter', () => {
  const adapter = new GupshupAdapter();

  it('declares the header name as plain and the header value as secret', () => {
    expect(adapter.provider).toBe('gupshup');
    expect(adapter.credentials.header_name).toMatchObject({ required: true, secret: false });
    expect(adapter.credentials.header_value).toMatchObject({ required: true, secret: true });
  });

  describe('verify', () => {
    it('accepts the configured header, whatever the case of the configured name', async () => {
      const req = ingest(gupshupRequest(URL_BASE, event('sent'), HEADER));
      await expect(adapter.verify(req, credentials)).resolves.toEqual({ ok: true });
      await expect(adapter.verify(req, { ...credentials, header_name: 'Authorization' })).resolves.toEqual({ ok: true });
    });

    it('accepts a custom header name', async () => {
      const req = ingest(gupshupRequest(URL_BASE, event('sent'), { name: 'X-Callback-Token', value: 'tok-1' }));
      await expect(adapter.verify(req, { header_name: 'x-callback-token', header_value: 'tok-1' })).resolves.toEqual({ ok: true });
    });

    it('rejects a wrong value without echoing either value', async () => {
      const req = ingest(gupshupRequest(URL_BASE, event('sent'), { name: HEADER.name, value: 'Bearer guess' }));
      const result = await adapter.verify(req, credentials);
      expect(result).toEqual({ ok: false, reason: 'authorization header does not match' });
      expect(JSON.stringify(result)).not.toContain('guess');
      expect(JSON.stringify(result)).not.toContain(HEADER.value);
    });

    it('rejects a missing header', async () => {
      const req = ingest(gupshupRequest(URL_BASE, event('sent'), { name: 'x-other', value: HEADER.value }));
      await expect(adapter.verify(req, credentials)).resolves.toEqual({ ok: false, reason: 'missing authorization header' });
    });

    it('rejects when the connection lacks header credentials', async () => {
      const req = ingest(gupshupRequest(URL_BASE, event('sent'), HEADER));
      await expect(adapter.verify(req, { header_name: 'authorization' })).resolves.toEqual({ ok: false, reason: 'header credentials are not configured' });
    });

    it('does not depend on the body, so a tampered body still needs the header', async () => {
      const req = ingest(gupshupRequest(URL_BASE, event('sent'), HEADER));
      const tampered = { ...req, rawBody: Buffer.from(JSON.stringify(event('read'))), headers: {} };
      await expect(adapter.verify(tampered, credentials)).resolves.toEqual({ ok: false, reason: 'missing authorization header' });
    });
  });

  describe('parse', () => {
    const parse = (body: unknown) => adapter.parse(ingest(gupshupRequest(URL_BASE, body, HEADER)));

    it('reads an enqueued event under Gupshup’s id (payload.id), not the wamid', async () => {
      await expect(parse(event('enqueued'))).resolves.toEqual({
        items: [
          {
            kind: 'delivery_status',
            providerEventId: `${GUPSHUP_ID}:enqueued:1580546677791`,
            providerMessageId: GUPSHUP_ID,
            channel: 'whatsapp',
            status: 'queued',
            rawStatus: 'enqueued',
            errorCode: null,
            errorMessage: null,
            occurredAt: '2020-02-01T08:44:37.791Z',
            recipient: '918x98xx21x4',
          },
        ],
        actions: [],
      });
    });

    it('reads a failed event with its code and reason', async () => {
      const parsed = await parse(event('failed', { error: { code: 1002, reason: 'Number Does Not Exists On WhatsApp' } }));
      expect(parsed.items).toEqual([
        {
          kind: 'delivery_status',
          providerEventId: `${GUPSHUP_ID}:failed:1580546677791`,
          providerMessageId: GUPSHUP_ID,
          channel: 'whatsapp',
          status: 'failed',
          rawStatus: 'failed',
          errorCode: '1002',
          errorMessage: 'Number Does Not Exists On WhatsApp',
          occurredAt: '2020-02-01T08:44:37.791Z',
          recipient: '918x98xx21x4',
        },
      ]);
    });

    it.each([
      ['sent', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'read'],
      ['deleted', 'unknown'],
    ])('reads a %s receipt under gsId with the event time from ts', async (type, status) => {
      const parsed = await parse(event(type, { ts: 1580546670 }));
      expect(parsed.items).toEqual([
        {
          kind: 'delivery_status',
          providerEventId: `${WAMID}:${type}:1580546677791`,
          providerMessageId: GUPSHUP_ID,
          channel: 'whatsapp',
          status,
          rawStatus: type,
          errorCode: null,
          errorMessage: null,
          occurredAt: '2020-02-01T08:44:30.000Z',
          recipient: '918x98xx21x4',
        },
      ]);
    });

    it('falls back to payload.id when a late receipt has no gsId', async () => {
      const parsed = await parse(event('read', { withoutGsId: true }));
      expect(parsed.items[0]).toMatchObject({ providerMessageId: WAMID, status: 'read' });
    });

    it.each([
      [
        'message',
        {
          app: 'DemoApp',
          timestamp: 1580227766370,
          version: 2,
          type: 'message',
          payload: { id: 'ABEG', source: '918x98xx21x4', type: 'text', payload: { text: 'Hi' }, sender: { phone: '918x98xx21x4', name: 'Drew' } },
        },
      ],
      ['user-event', { app: 'DemoApp', timestamp: 1580227766370, version: 2, type: 'user-event', payload: { phone: '918x98xx21x4', type: 'opted-in' } }],
      [
        'billing-event',
        {
          app: 'DemoApp',
          timestamp: 1580227766370,
          version: 2,
          type: 'billing-event',
          payload: { deductions: { type: 'service', model: 'CBP', source: 'whatsapp', billable: true } },
        },
      ],
    ])('returns no items for a %s callback', async (_type, body) => {
      await expect(parse(body)).resolves.toEqual({ items: [], actions: [] });
    });

    it.each([
      ['a body that is not JSON', 'not json'],
      ['a JSON array', []],
      ['no type', { app: 'DemoAPI', payload: {} }],
      ['a message-event without payload', { type: 'message-event', timestamp: 1 }],
      ['a message-event without payload.id', { type: 'message-event', timestamp: 1, payload: { type: 'sent' } }],
      ['a message-event without payload.type', { type: 'message-event', timestamp: 1, payload: { id: 'x' } }],
    ])('throws MalformedCallbackError for %s', async (_name, body) => {
      await expect(parse(body)).rejects.toBeInstanceOf(MalformedCallbackError);
    });
  });
});
