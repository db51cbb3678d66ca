import { type SignedRequest, signVonageReceipt, type VonageCredentials, type VonageMethod } from '@hookhub/testing';
import { MalformedCallbackError, type IngestRequest } from '../provider-adapter';
import { VonageAdapter } from './vonage.adapter';

const URL_BASE = 'https://hooks.example.com/ingest/vonage/0e6c9a57-3d2b-4f18-a7c4-61b1f5e2d8a3';
const SECRET = 'vS3cr3tSignatureK3yFromDashb0ard';
const CREDENTIALS: VonageCredentials = { signature_secret: SECRET, signature_method: 'sha256' };
const NOW = new Date('2025-03-01T12:00:00.000Z');

const DELIVERED = {
  msisdn: '447700900000',
  to: 'AcmeInc',
  'network-code': '23410',
  messageId: '0A0000001234567B',
  price: '0.03330000',
  status: 'delivered',
  scts: '2503011158',
  'err-code': '0',
  'api-key': 'abcd1234',
  'client-ref': 'ticket=42&part=1',
  'message-timestamp': '2025-03-01 11:58:30',
};

function ingest(signed: SignedRequest, receivedAt = NOW): IngestRequest {
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: signed.method, url: signed.url, headers, rawBody: signed.body, receivedAt };
}

function signed(receipt: Record<string, string> = DELIVERED, credentials: VonageCredentials = CREDENTIALS, now = NOW): IngestRequest {
  return ingest(signVonageReceipt(URL_BASE, receipt, credentials, { now }));
}

/** Rewrites one query parameter of a GET receipt. */
function withQuery(request: IngestRequest, name: string, value: string | null): IngestRequest {
  const url = new URL(request.url);
  if (value === null) url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  return { ...request, url: url.toString() };
}

describe('VonageAdapter', () => {
  const adapter = new VonageAdapter();

  it('accepts GET receipts and declares the secret and the method', () => {
    expect(adapter.provider).toBe('vonage');
    expect(adapter.acceptsGet).toBe(true);
    expect(adapter.credentials).toEqual({
      signature_secret: expect.objectContaining({ required: true, secret: true }),
      signature_method: expect.objectContaining({
        required: true,
        secret: false,
        choices: ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'],
      }),
    });
  });

  describe('verify', () => {
    const methods: VonageMethod[] = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'];
    const transports = ['GET', 'POST-form', 'POST-json'] as const;

    it.each(methods.flatMap((method) => transports.map((transport) => [method, transport] as const)))(
      'accepts a %s receipt sent as %s, signed as @vonage/sms verifies it',
      async (method, transport) => {
        const credentials = { signature_secret: SECRET, signature_method: method };
        const request = ingest(signVonageReceipt(URL_BASE, DELIVERED, credentials, { now: NOW, transport }));
        await expect(adapter.verify(request, credentials)).resolves.toEqual({ ok: true });
      },
    );

    it('accepts an upper-case hex signature', async () => {
      const request = signed();
      const sig = new URL(request.url).searchParams.get('sig') ?? '';
      await expect(adapter.verify(withQuery(request, 'sig', sig.toUpperCase()), CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('rejects a tampered receipt', async () => {
      await expect(adapter.verify(withQuery(signed(), 'status', 'failed'), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a tampered JSON body', async () => {
      const request = ingest(signVonageReceipt(URL_BASE, DELIVERED, CREDENTIALS, { now: NOW, transport: 'POST-json' }));
      const tampered = { ...request, rawBody: Buffer.from(request.rawBody.toString('utf8').replace('"delivered"', '"expired"')) };
      await expect(adapter.verify(tampered, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects a signature made with another secret, without revealing either', async () => {
      const result = await adapter.verify(signed(DELIVERED, { ...CREDENTIALS, signature_secret: 'another-secret' }), CREDENTIALS);
      expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
      expect(JSON.stringify(result)).not.toContain(SECRET);
    });

    it('rejects a signature made with another method', async () => {
      await expect(adapter.verify(signed(), { ...CREDENTIALS, signature_method: 'sha512' })).resolves.toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it.each([
      ['more than five minutes old', new Date(NOW.getTime() - 5 * 60 * 1000 - 1000)],
      ['more than five minutes ahead', new Date(NOW.getTime() + 5 * 60 * 1000 + 1000)],
    ])('rejects a receipt signed %s', async (_name, signedAt) => {
      await expect(adapter.verify(signed(DELIVERED, CREDENTIALS, signedAt), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'stale timestamp',
      });
    });

    it('accepts a receipt signed within five minutes', async () => {
      const signedAt = new Date(NOW.getTime() - 4 * 60 * 1000);
      await expect(adapter.verify(signed(DELIVERED, CREDENTIALS, signedAt), CREDENTIALS)).resolves.toEqual({ ok: true });
    });

    it('rejects a receipt without sig', async () => {
      await expect(adapter.verify(withQuery(signed(), 'sig', null), CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'missing sig' });
    });

    it('rejects a receipt without timestamp', async () => {
      await expect(adapter.verify(withQuery(signed(), 'timestamp', null), CREDENTIALS)).resolves.toEqual({
        ok: false,
        reason: 'missing timestamp',
      });
    });

    it('rejects everything when the connection is not fully configured', async () => {
      await expect(adapter.verify(signed(), { signature_method: 'sha256' })).resolves.toEqual({
        ok: false,
        reason: 'signature_secret not configured',
      });
      await expect(adapter.verify(signed(), { signature_secret: SECRET, signature_method: 'sha384' })).resolves.toEqual({
        ok: false,
        reason: 'unsupported signature_method',
      });
    });

    it('rejects a JSON body that is not an object of scalars', async () => {
      const request: IngestRequest = {
        method: 'POST',
        url: URL_BASE,
        headers: { 'content-type': 'application/json' },
        rawBody: Buffer.from('{"sig":"x","timestamp":"1","nested":{"a":1}}'),
        receivedAt: NOW,
      };
      await expect(adapter.verify(request, CREDENTIALS)).resolves.toEqual({ ok: false, reason: 'nested is not a scalar' });
    });
  });

  describe('parse', () => {
    it.each(['GET', 'POST-form', 'POST-json'] as const)('reads a delivered receipt sent as %s', async (transport) => {
      const parsed = await adapter.parse(ingest(signVonageReceipt(URL_BASE, DELIVERED, CREDENTIALS, { now: NOW, transport })));
      expect(parsed).toEqual({
        actions: [],
        items: [
          {
            kind: 'delivery_status',
            providerEventId: '0A0000001234567B:delivered',
            providerMessageId: '0A0000001234567B',
            channel: 'sms',
            status: 'delivered',
            rawStatus: 'delivered',
            errorCode: null,
            errorMessage: null,
            occurredAt: '2025-03-01T11:58:30.000Z',
            recipient: '447700900000',
          },
        ],
      });
    });

    it('keeps a non-zero err-code and falls back to the Unix timestamp', async () => {
      const { 'message-timestamp': _dropped, ...receipt } = DELIVERED;
      const parsed = await adapter.parse(signed({ ...receipt, status: 'failed', 'err-code': '6' }));
      expect(parsed.items[0]).toMatchObject({ status: 'failed', errorCode: '6', occurredAt: NOW.toISOString() });
    });

    it.each([
      ['accepted', 'sent'],
      ['buffered', 'queued'],
      ['delivered', 'delivered'],
      ['expired', 'expired'],
      ['failed', 'failed'],
      ['rejected', 'rejected'],
      ['unknown', 'unknown'],
      ['__proto__', 'unknown'],
    ])('maps status %s to %s', async (rawStatus, status) => {
      const parsed = await adapter.parse(signed({ ...DELIVERED, status: rawStatus }));
      expect(parsed.items[0]).toMatchObject({ status, rawStatus, providerEventId: `0A0000001234567B:${rawStatus}` });
    });

    it('rejects a receipt without messageId or status as malformed', async () => {
      await expect(adapter.parse(withQuery(signed(), 'messageId', null))).rejects.toBeInstanceOf(MalformedCallbackError);
      await expect(adapter.parse(withQuery(signed(), 'status', null))).rejects.toBeInstanceOf(MalformedCallbackError);
    });
  });
});
