import { createHash } from 'node:crypto';
import { mintMessagebirdJwt, signMessagebirdJwt, signMessagebirdLegacy, type SignedRequest } from '@hookhub/testing';
import { MalformedCallbackError, type IngestRequest } from '../provider-adapter';
import { MessagebirdAdapter } from './messagebird.adapter';

interface ReferenceCase {
  name: string;
  method: string;
  secret: string;
  url: string;
  payload?: string;
  timestamp: string;
  token: string;
  valid: boolean;
}

// The SDK's own cross-language test vectors for MessageBird-Signature-JWT.
const REFERENCE = require('messagebird/lib/testdata/webhook-signature-jwt-reference.json') as ReferenceCase[];

const URL_BASE = 'https://hooks.example.com/ingest/messagebird/a4f1c2d3-9b8e-4c7d-8e6f-5a4b3c2d1e0f';
const SIGNING_KEY = 'PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd';
const CREDENTIALS = { signing_key: SIGNING_KEY };
const NOW = new Date('2025-03-01T12:00:00.000Z');

const DELIVERED = {
  id: 'efa6405d518d4c0c88cce11f7db775fb',
  reference: 'ticket-42',
  recipient: '31612345678',
  status: 'delivered',
  statusReason: 'successfully delivered',
  statusDatetime: '2025-03-01T11:59:30+00:00',
  mccmnc: '20408',
  ported: '0',
};

function ingest(signed: SignedRequest, receivedAt = NOW): IngestRequest {
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: signed.method, url: signed.url, headers, rawBody: signed.body, receivedAt };
}

async function signed(report: Record<string, string> = DELIVERED, method: 'GET' | 'POST' = 'GET'): Promise<IngestRequest> {
  return ingest(await signMessagebirdJwt(URL_BASE, report, CREDENTIALS, { now: NOW, method }));
}

function withHeader(request: IngestRequest, name: string, value: string | undefined): IngestRequest {
  return { ...request, headers: { ...request.headers, [name]: value } };
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const nowSeconds = Math.floor(NOW.getTime() / 1000);

describe('MessagebirdAdapter', () => {
  const adapter = new MessagebirdAdapter();

  it('accepts GET reports and declares the signing key as a required secret', () => {
    expect(adapter.provider).toBe('messagebird');
    expect(adapter.acceptsGet).toBe(true);
    expect(adapter.credentials).toEqual({ signing_key: expect.objectContaining({ required: true, secret: true }) });
  });

  describe('verify (MessageBird-Signature-JWT)', () => {
    it.each([['GET'], ['POST']] as const)('accepts a %s report signed with a jose-minted JWT that the SDK accepts', async (method) => {
      await expect(adapter.verify(await signed(DELIVERED, method), CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it.each(['HS384', 'HS512'] as const)('accepts %s, as the SDK does', async (algorithm) => {
      const request = ingest(await signMessagebirdJwt(URL_BASE, DELIVERED, CREDENTIALS, { now: NOW, algorithm }));
      await expect(adapter.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it.each(REFERENCE.map((c) => [c.name, c] as const))('agrees with the SDK reference vector: %s', async (_name, vector) => {
      const request: IngestRequest = {
        method: vector.method === 'GET' ? 'GET' : 'POST',
        url: vector.url,
        headers: { 'messagebird-signature-jwt': vector.token },
        rawBody: Buffer.from(vector.payload ?? '', 'utf8'),
        receivedAt: new Date(vector.timestamp),
      };
      const result = await adapter.verify(request, { signing_key: vector.secret });
      expect(result.ok).toBe(vector.valid);
    });

    it('rejects a tampered body', async () => {
      const request = await signed(DELIVERED, 'POST');
      const tampered = { ...request, rawBody: Buffer.from(request.rawBody.toString('utf8').replace('delivered', 'delivery_failed')) };
      await expect(adapter.verify(tampered, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'payload_hash mismatch' });
    });

    it('rejects a tampered query string', async () => {
      const request = await signed();
      const tampered = { ...request, url: request.url.replace('status=delivered', 'status=expired') };
      await expect(adapter.verify(tampered, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'url_hash mismatch' });
    });

    it('rejects a body added to a report signed without one', async () => {
      const request = await signed();
      await expect(adapter.verify({ ...request, rawBody: Buffer.from('status=delivered') }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'missing payload_hash',
      });
    });

    it('rejects a token signed with another key, without revealing either', async () => {
      const request = ingest(await signMessagebirdJwt(URL_BASE, DELIVERED, { signing_key: 'another-key' }, { now: NOW }));
      const result = await adapter.verify(request, CREDENTIALS);
      expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
      expect(JSON.stringify(result)).not.toContain(SIGNING_KEY);
    });

    it('rejects an expired token, allowing the SDK five seconds of skew', async () => {
      const request = ingest(await signMessagebirdJwt(URL_BASE, DELIVERED, CREDENTIALS, { now: NOW, lifetime: 60 }));
      const at = (seconds: number): IngestRequest => ({ ...request, receivedAt: new Date(NOW.getTime() + seconds * 1000) });
      await expect(adapter.verify(at(64), CREDENTIALS)).resolves.toEqual({ ok: true });
      await expect(adapter.verify(at(65), CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'JWT expired' });
    });

    it('rejects a token that is not valid yet', async () => {
      const request = await signed();
      await expect(adapter.verify({ ...request, receivedAt: new Date(NOW.getTime() - 6000) }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'JWT not yet valid',
      });
    });

    it.each([
      ['without exp', { exp: undefined }, 'JWT expired'],
      ['from another issuer', { iss: 'Mallory' }, 'unexpected JWT issuer'],
      ['without jti', { jti: undefined }, 'missing JWT jti'],
      ['without url_hash', { url_hash: undefined }, 'url_hash mismatch'],
    ])('rejects a token %s', async (_name, override, reason) => {
      const request = await signed();
      const claims = { iss: 'MessageBird', nbf: nowSeconds, exp: nowSeconds + 60, jti: 'j-1', url_hash: sha256Hex(request.url), ...override };
      const token = await mintMessagebirdJwt(claims, SIGNING_KEY);
      await expect(adapter.verify(withHeader(request, 'messagebird-signature-jwt', token), CREDENTIALS)).resolves.toEqual({ ok: false, reason });
    });

    it('rejects an unsigned token and garbage', async () => {
      const request = await signed();
      const [, claims] = (request.headers['messagebird-signature-jwt'] ?? '').split('.');
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${claims}.`;
      await expect(adapter.verify(withHeader(request, 'messagebird-signature-jwt', none), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'unsupported JWT alg',
      });
      await expect(adapter.verify(withHeader(request, 'messagebird-signature-jwt', 'not-a-jwt'), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'malformed JWT',
      });
    });

    it('rejects a request without any signature header', async () => {
      const request = await signed();
      await expect(adapter.verify({ ...request, headers: {} }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'missing MessageBird-Signature-JWT',
      });
    });

    it('rejects everything when the connection has no signing key', async () => {
      await expect(adapter.verify(await signed(), {})).resolves.toEqual({ ok: false, reason: 'signing_key not configured' });
    });
  });

  describe('verify (legacy MessageBird-Signature)', () => {
    const legacy = (report: Record<string, string> = DELIVERED, method: 'GET' | 'POST' = 'GET', url = URL_BASE): IngestRequest =>
      ingest(signMessagebirdLegacy(url, report, CREDENTIALS, { now: NOW, method }));

    it.each([['GET'], ['POST']] as const)('accepts a %s report signed by the SDK', async (method) => {
      await expect(adapter.verify(legacy(DELIVERED, method), CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('accepts the unencoded + of statusDatetime that arrives as a space, as the SDK does', async () => {
      const request = legacy({ id: 'm1', status: 'sent' }, 'GET', `${URL_BASE}?statusDatetime=2025-03-01T11:59:30+00:00`);
      await expect(adapter.verify(request, CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('rejects a tampered query or body', async () => {
      const get = legacy();
      await expect(adapter.verify({ ...get, url: get.url.replace('status=delivered', 'status=expired') }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
      const post = legacy(DELIVERED, 'POST');
      await expect(adapter.verify({ ...post, rawBody: Buffer.from('id=x&status=delivered') }, CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a signature made with another key', async () => {
      const request = ingest(signMessagebirdLegacy(URL_BASE, DELIVERED, { signing_key: 'another-key' }, { now: NOW }));
      await expect(adapter.verify(request, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a timestamp 100 seconds old or more, as the SDK does', async () => {
      const request = legacy();
      const at = (seconds: number): IngestRequest => ({ ...request, receivedAt: new Date(NOW.getTime() + seconds * 1000) });
      await expect(adapter.verify(at(99), CREDENTIALS)).resolves.toEqual({ ok: true });
      await expect(adapter.verify(at(100), CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'stale timestamp' });
      await expect(adapter.verify(at(-100), CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'stale timestamp' });
    });

    it('rejects a legacy signature without its timestamp', async () => {
      await expect(adapter.verify(withHeader(legacy(), 'messagebird-request-timestamp', undefined), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'missing MessageBird-Request-Timestamp',
      });
    });
  });

  describe('parse', () => {
    it.each([['GET'], ['POST']] as const)('reads a delivered report sent as %s', async (method) => {
      const parsed = await adapter.parse(await signed(DELIVERED, method));
      expect(parsed).toEqual({
        actions: [],
        items: [
          {
            kind: 'delivery_status',
            providerEventId: 'efa6405d518d4c0c88cce11f7db775fb:delivered:2025-03-01T11:59:30+00:00',
            providerMessageId: 'efa6405d518d4c0c88cce11f7db775fb',
            channel: 'sms',
            status: 'delivered',
            rawStatus: 'delivered',
            errorCode: null,
            errorMessage: null,
            occurredAt: '2025-03-01T11:59:30.000Z',
            recipient: '31612345678',
          },
        ],
      });
    });

    it('reads a failed report with its error, restoring the + lost from an unencoded statusDatetime', async () => {
      const request: IngestRequest = {
        method: 'GET',
        url: `${URL_BASE}?id=m1&recipient=316&status=delivery_failed&statusReason=unknown%20subscriber&statusErrorCode=1&statusDatetime=2025-03-01T13:59:30+02:00`,
        headers: {},
        rawBody: Buffer.alloc(0),
        receivedAt: NOW,
      };
      const parsed = await adapter.parse(request);
      expect(parsed.items).toEqual([
        expect.objectContaining({
          providerEventId: 'm1:delivery_failed:2025-03-01T13:59:30+02:00',
          status: 'failed',
          errorCode: '1',
          errorMessage: 'unknown subscriber',
          occurredAt: '2025-03-01T11:59:30.000Z',
        }),
      ]);
    });

    it('reads a JSON body', async () => {
      const request: IngestRequest = {
        method: 'POST',
        url: URL_BASE,
        headers: { 'content-type': 'application/json' },
        rawBody: Buffer.from(JSON.stringify({ id: 'm2', status: 'sent', recipient: 31612345678 })),
        receivedAt: NOW,
      };
      const parsed = await adapter.parse(request);
      expect(parsed.items[0]).toMatchObject({ providerEventId: 'm2:sent:', status: 'sent', recipient: '31612345678', occurredAt: NOW.toISOString() });
    });

    it.each([
      ['scheduled', 'queued'],
      ['buffered', 'queued'],
      ['sent', 'sent'],
      ['delivered', 'delivered'],
      ['expired', 'expired'],
      ['delivery_failed', 'failed'],
      ['something_new', 'unknown'],
    ])('maps status %s to %s', async (rawStatus, status) => {
      const parsed = await adapter.parse(await signed({ ...DELIVERED, status: rawStatus }));
      expect(parsed.items[0]).toMatchObject({ status, rawStatus });
    });

    it('rejects a report without id or status as malformed', async () => {
      await expect(adapter.parse(await signed({ status: 'sent' }))).rejects.toBeInstanceOf(MalformedCallbackError);
      await expect(adapter.parse(await signed({ id: 'm1' }))).rejects.toBeInstanceOf(MalformedCallbackError);
    });
  });
});
