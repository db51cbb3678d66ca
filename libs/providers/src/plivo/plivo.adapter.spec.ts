import { validateV3Signature } from 'plivo/dist/utils/v3Security';
import { signPlivoV2, signPlivoV3, type SignedRequest } from '@hookhub/testing';
import { MalformedCallbackError, type IngestRequest } from '../provider-adapter';
import { PlivoAdapter, plivoV3SignedString } from './plivo.adapter';

const URL_BASE = 'https://hooks.example.com/ingest/plivo/5b0f2c1e-4a8d-4f3b-8e0a-2d9c7b6a5f41';
const AUTH_TOKEN = 'ZmE0NzM0ZTQ2NDkyOWFjZjY1ZTM1ZWE0MjZiODA3';
const CREDENTIALS = { auth_token: AUTH_TOKEN };
const RECEIVED_AT = new Date('2025-03-01T12:00:00.000Z');

const DELIVERED = {
  From: '14155550100',
  MessageUUID: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196',
  ParentMessageUUID: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196',
  PartInfo: '1 of 1',
  Status: 'delivered',
  To: '14155550199',
  TotalAmount: '0.00500',
  TotalRate: '0.00500',
  Units: '1',
  ErrorCode: '000',
};

function ingest(signed: SignedRequest, receivedAt = RECEIVED_AT): IngestRequest {
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: signed.method, url: signed.url, headers, rawBody: signed.body, receivedAt };
}

function withHeaders(request: IngestRequest, headers: Record<string, string | undefined>): IngestRequest {
  return { ...request, headers: { ...request.headers, ...headers } };
}

describe('PlivoAdapter', () => {
  const adapter = new PlivoAdapter();

  it('declares the auth token as a required secret', () => {
    expect(adapter.provider).toBe('plivo');
    expect(adapter.credentials).toEqual({ auth_token: expect.objectContaining({ required: true, secret: true }) });
  });

  describe('verify (V3)', () => {
    it.each([
      ['a form POST', URL_BASE, 'POST'],
      ['a form POST to a URL with a query string', `${URL_BASE}?tenant=acme&b=x%20y+z&a=2`, 'POST'],
      ['a GET with the parameters in the query', URL_BASE, 'GET'],
      ['a GET to a URL with its own query string', `${URL_BASE}?tenant=acme`, 'GET'],
    ] as const)('accepts %s signed as plivo-node verifies it', async (_name, url, method) => {
      const request = ingest(signPlivoV3(url, DELIVERED, CREDENTIALS, { method }));
      await expect(adapter.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('signs repeated query parameters in value order, as plivo-node does outside jest', () => {
      // plivo-node tests `instanceof Array` on Node's querystring output, which fails across jest's realms,
      // so this case is pinned to the string plivo-node builds when run by plain node.
      const url = 'https://hooks.example.com/ingest/plivo/x?tenant=acme&b=x%20y+z&a=2&a=1';
      const params = new Map([
        ['To', ['1']],
        ['Status', ['delivered']],
      ]);
      expect(plivoV3SignedString('POST', url, params, 'n')).toBe('https://hooks.example.com/ingest/plivo/x?a=1&a=2&b=x y z&tenant=acme.StatusdeliveredTo1.n');
    });

    it('accepts the header holding several signatures when one of them is valid', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS, { nonce: '05429567804466091622' }));
      const several = `bm90IGEgc2lnbmF0dXJl,${request.headers['x-plivo-signature-v3']}`;
      expect(validateV3Signature('POST', URL_BASE, '05429567804466091622', AUTH_TOKEN, several, { ...DELIVERED })).toBe(true);
      await expect(adapter.verify(withHeaders(request, { 'x-plivo-signature-v3': several.replace(',', ', ') }), CREDENTIALS)).resolves.toEqual({
        ok: true,
      });
    });

    it('accepts the main-account signature header', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS));
      const mainAccount = withHeaders(request, {
        'x-plivo-signature-v3': undefined,
        'x-plivo-signature-ma-v3': request.headers['x-plivo-signature-v3'],
      });
      await expect(adapter.verify(mainAccount, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('rejects a tampered body', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS));
      const tampered = { ...request, rawBody: Buffer.from(request.rawBody.toString('utf8').replace('Status=delivered', 'Status=failed')) };
      await expect(adapter.verify(tampered, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a changed query string', async () => {
      const request = ingest(signPlivoV3(`${URL_BASE}?tenant=acme`, DELIVERED, CREDENTIALS));
      await expect(adapter.verify({ ...request, url: `${URL_BASE}?tenant=evil` }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a replayed signature with another nonce', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS));
      await expect(adapter.verify(withHeaders(request, { 'x-plivo-signature-v3-nonce': '1' }), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a signature made with another auth token, without revealing either', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, { auth_token: 'another-token' }));
      const result = await adapter.verify(request, CREDENTIALS);
      expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
      expect(JSON.stringify(result)).not.toContain(AUTH_TOKEN);
    });

    it('prefers V3: a valid V2 signature does not rescue an invalid V3 one', async () => {
      const v2 = ingest(signPlivoV2(URL_BASE, DELIVERED, CREDENTIALS));
      const both = withHeaders(v2, { 'x-plivo-signature-v3': 'bm90IGEgc2lnbmF0dXJl', 'x-plivo-signature-v3-nonce': '1' });
      await expect(adapter.verify(both, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a V3 signature without its nonce', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS));
      await expect(adapter.verify(withHeaders(request, { 'x-plivo-signature-v3-nonce': undefined }), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'missing X-Plivo-Signature-V3-Nonce',
      });
    });

    it('rejects a request without any signature header', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS));
      await expect(adapter.verify({ ...request, headers: {} }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'missing X-Plivo-Signature-V3',
      });
    });

    it('rejects everything when the connection has no auth token', async () => {
      const request = ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS));
      await expect(adapter.verify(request, {})).resolves.toEqual({ ok: false, reason: 'auth_token not configured' });
    });
  });

  describe('verify (V2)', () => {
    it('accepts a V2 signature checked by plivo-node', async () => {
      const request = ingest(signPlivoV2(`${URL_BASE}?tenant=acme`, DELIVERED, CREDENTIALS));
      await expect(adapter.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('rejects a V2 signature made with another auth token', async () => {
      const request = ingest(signPlivoV2(URL_BASE, DELIVERED, { auth_token: 'another-token' }));
      await expect(adapter.verify(request, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a V2 signature for another URL', async () => {
      const request = ingest(signPlivoV2(URL_BASE, DELIVERED, CREDENTIALS));
      await expect(adapter.verify({ ...request, url: `${URL_BASE}0` }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a V2 signature without its nonce', async () => {
      const request = ingest(signPlivoV2(URL_BASE, DELIVERED, CREDENTIALS));
      await expect(adapter.verify(withHeaders(request, { 'x-plivo-signature-v2-nonce': undefined }), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'missing X-Plivo-Signature-V2-Nonce',
      });
    });
  });

  describe('parse', () => {
    it('reads a delivered report, treating the all-zero error code as none', async () => {
      const parsed = await adapter.parse(ingest(signPlivoV3(URL_BASE, DELIVERED, CREDENTIALS)));
      expect(parsed).toEqual({
        actions: [],
        items: [
          {
            kind: 'delivery_status',
            providerEventId: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196:delivered',
            providerMessageId: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196',
            channel: 'sms',
            status: 'delivered',
            rawStatus: 'delivered',
            errorCode: null,
            errorMessage: null,
            occurredAt: '2025-03-01T12:00:00.000Z',
            recipient: '14155550199',
          },
        ],
      });
    });

    it('reads a failed report from a GET with its error code', async () => {
      const params = { ...DELIVERED, Status: 'undelivered', ErrorCode: '200' };
      const parsed = await adapter.parse(ingest(signPlivoV3(URL_BASE, params, CREDENTIALS, { method: 'GET' })));
      expect(parsed.items).toEqual([expect.objectContaining({ providerEventId: `${DELIVERED.MessageUUID}:undelivered`, status: 'failed', errorCode: '200' })]);
    });

    it.each([
      ['queued', 'queued'],
      ['sent', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'read'],
      ['undelivered', 'failed'],
      ['failed', 'failed'],
      ['rejected', 'rejected'],
      ['something_new', 'unknown'],
    ])('maps Status %s to %s', async (rawStatus, status) => {
      const parsed = await adapter.parse(ingest(signPlivoV3(URL_BASE, { MessageUUID: 'u-1', Status: rawStatus }, CREDENTIALS)));
      expect(parsed.items[0]).toMatchObject({ status, rawStatus, providerEventId: `u-1:${rawStatus}`, recipient: null });
    });

    it('rejects a report without MessageUUID or Status as malformed', async () => {
      await expect(adapter.parse(ingest(signPlivoV3(URL_BASE, { Status: 'sent' }, CREDENTIALS)))).rejects.toBeInstanceOf(MalformedCallbackError);
      await expect(adapter.parse(ingest(signPlivoV3(URL_BASE, { MessageUUID: 'u-1' }, CREDENTIALS)))).rejects.toBeInstanceOf(MalformedCallbackError);
    });
  });
});
