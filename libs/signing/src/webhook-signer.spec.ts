import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { SignatureSchemeName, generateSecret, isValidSecret, signatureHeaders } from './webhook-signer';

const BODY = JSON.stringify({ id: '7f94629', type: 'ticket.created', data: { note: 'ünïcödé ✓' } });
const MESSAGE_ID = 'dlv_2b9f0c7e';

const now = (): number => Math.floor(Date.now() / 1000);
const hmacHex = (secret: string, body: string | Uint8Array): string => createHmac('sha256', secret).update(body).digest('hex');

describe('signatureHeaders — sha256', () => {
  it('sends X-Webhook-Signature: sha256=<hex HMAC of the body>', () => {
    const secret = generateSecret('sha256');
    const headers = signatureHeaders({ scheme: 'sha256', secrets: [secret], body: BODY, messageId: MESSAGE_ID, timestamp: now() });
    expect(headers).toEqual({ 'X-Webhook-Signature': `sha256=${hmacHex(secret, BODY)}` });
    expect(headers['X-Webhook-Signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('signs byte bodies the same as the equivalent string', () => {
    const secret = 'a-sixteen-char-secret';
    const bytes = new TextEncoder().encode(BODY);
    const fromBytes = signatureHeaders({ scheme: 'sha256', secrets: [secret], body: bytes, messageId: MESSAGE_ID, timestamp: 1 });
    const fromString = signatureHeaders({ scheme: 'sha256', secrets: [secret], body: BODY, messageId: MESSAGE_ID, timestamp: 2 });
    expect(fromBytes).toEqual(fromString);
    expect(fromBytes['X-Webhook-Signature']).toBe(`sha256=${hmacHex(secret, bytes)}`);
  });

  it('does not depend on message id or timestamp', () => {
    const secret = generateSecret('sha256');
    const a = signatureHeaders({ scheme: 'sha256', secrets: [secret], body: BODY, messageId: 'a', timestamp: 1 });
    const b = signatureHeaders({ scheme: 'sha256', secrets: [secret], body: BODY, messageId: 'b', timestamp: 2 });
    expect(a).toEqual(b);
  });

  it('changes when the body changes', () => {
    const secret = generateSecret('sha256');
    const a = signatureHeaders({ scheme: 'sha256', secrets: [secret], body: BODY, messageId: MESSAGE_ID, timestamp: 1 });
    const b = signatureHeaders({ scheme: 'sha256', secrets: [secret], body: `${BODY} `, messageId: MESSAGE_ID, timestamp: 1 });
    expect(a['X-Webhook-Signature']).not.toBe(b['X-Webhook-Signature']);
  });

  it('during a rotation carries one comma-separated value per secret, each verifying with one secret', () => {
    const current = generateSecret('sha256');
    const previous = generateSecret('sha256');
    const header = signatureHeaders({ scheme: 'sha256', secrets: [current, previous], body: BODY, messageId: MESSAGE_ID, timestamp: now() })[
      'X-Webhook-Signature'
    ];
    const values = header.split(',');
    expect(values).toEqual([`sha256=${hmacHex(current, BODY)}`, `sha256=${hmacHex(previous, BODY)}`]);
    // A receiver holding only one of the secrets finds its signature among the values.
    for (const secret of [current, previous]) {
      expect(values.filter((v) => v === `sha256=${hmacHex(secret, BODY)}`)).toHaveLength(1);
    }
    expect(values).not.toContain(`sha256=${hmacHex(generateSecret('sha256'), BODY)}`);
  });
});

describe('signatureHeaders — enchant', () => {
  it('sends Enchant-Signature: <hex HMAC of the body> without a prefix', () => {
    const secret = generateSecret('enchant');
    const headers = signatureHeaders({ scheme: 'enchant', secrets: [secret], body: BODY, messageId: MESSAGE_ID, timestamp: now() });
    expect(headers).toEqual({ 'Enchant-Signature': hmacHex(secret, BODY) });
    expect(headers['Enchant-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('during a rotation carries one comma-separated hex value per secret', () => {
    const [a, b] = [generateSecret('enchant'), generateSecret('enchant')];
    const headers = signatureHeaders({ scheme: 'enchant', secrets: [a, b], body: BODY, messageId: MESSAGE_ID, timestamp: now() });
    expect(headers).toEqual({ 'Enchant-Signature': `${hmacHex(a, BODY)},${hmacHex(b, BODY)}` });
  });
});

describe('signatureHeaders — standard-webhooks', () => {
  it('sends webhook-id, webhook-timestamp and webhook-signature that the standardwebhooks package verifies', () => {
    const secret = generateSecret('standard-webhooks');
    const timestamp = now();
    const headers = signatureHeaders({ scheme: 'standard-webhooks', secrets: [secret], body: BODY, messageId: MESSAGE_ID, timestamp });
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(headers['webhook-id']).toBe(MESSAGE_ID);
    expect(headers['webhook-timestamp']).toBe(String(timestamp));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it('matches the signature the standardwebhooks package itself computes', () => {
    const secret = generateSecret('standard-webhooks');
    const timestamp = now();
    const headers = signatureHeaders({ scheme: 'standard-webhooks', secrets: [secret], body: BODY, messageId: MESSAGE_ID, timestamp });
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign(MESSAGE_ID, new Date(timestamp * 1000), BODY));
  });

  it('verifies a byte body as well', () => {
    const secret = generateSecret('standard-webhooks');
    const body = Buffer.from(BODY, 'utf8');
    const headers = signatureHeaders({ scheme: 'standard-webhooks', secrets: [secret], body, messageId: MESSAGE_ID, timestamp: now() });
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
  });

  it('fails verification with another secret, a changed body, id or timestamp', () => {
    const secret = generateSecret('standard-webhooks');
    const timestamp = now();
    const headers = signatureHeaders({ scheme: 'standard-webhooks', secrets: [secret], body: BODY, messageId: MESSAGE_ID, timestamp });
    expect(() => new Webhook(generateSecret('standard-webhooks')).verify(BODY, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${BODY} `, headers)).toThrow();
    expect(() => new Webhook(secret).verify(BODY, { ...headers, 'webhook-id': 'other' })).toThrow();
    expect(() => new Webhook(secret).verify(BODY, { ...headers, 'webhook-timestamp': String(timestamp - 1) })).toThrow();
  });

  it('during a rotation verifies with either secret alone', () => {
    const current = generateSecret('standard-webhooks');
    const previous = generateSecret('standard-webhooks');
    const headers = signatureHeaders({
      scheme: 'standard-webhooks',
      secrets: [current, previous],
      body: BODY,
      messageId: MESSAGE_ID,
      timestamp: now(),
    });
    const entries = headers['webhook-signature'].split(' ');
    expect(entries).toHaveLength(2);
    for (const entry of entries) expect(entry).toMatch(/^v1,/);
    expect(() => new Webhook(current).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret('standard-webhooks')).verify(BODY, headers)).toThrow();
  });
});

describe('signatureHeaders — no secrets', () => {
  it.each<SignatureSchemeName>(['sha256', 'enchant', 'standard-webhooks'])('%s: sends no headers without secrets', (scheme) => {
    expect(signatureHeaders({ scheme, secrets: [], body: BODY, messageId: MESSAGE_ID, timestamp: now() })).toEqual({});
    expect(signatureHeaders({ scheme, secrets: ['', ''], body: BODY, messageId: MESSAGE_ID, timestamp: now() })).toEqual({});
  });

  it('ignores empty entries among real secrets', () => {
    const secret = generateSecret('sha256');
    expect(signatureHeaders({ scheme: 'sha256', secrets: ['', secret], body: BODY, messageId: MESSAGE_ID, timestamp: 1 })).toEqual({
      'X-Webhook-Signature': `sha256=${hmacHex(secret, BODY)}`,
    });
  });
});

describe('generateSecret', () => {
  it('makes 32 random bytes as hex for sha256 and enchant', () => {
    for (const scheme of ['sha256', 'enchant'] as const) {
      const secret = generateSecret(scheme);
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      expect(generateSecret(scheme)).not.toBe(secret);
      expect(isValidSecret(scheme, secret)).toBe(true);
    }
  });

  it('makes a whsec_ base64 key of 32 bytes for standard-webhooks', () => {
    const secret = generateSecret('standard-webhooks');
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(isValidSecret('standard-webhooks', secret)).toBe(true);
  });
});

describe('isValidSecret', () => {
  it.each([
    ['sha256', 'x'.repeat(16), true],
    ['sha256', 'x'.repeat(256), true],
    ['sha256', 'x'.repeat(15), false],
    ['sha256', 'x'.repeat(257), false],
    ['sha256', '', false],
    ['enchant', 'sixteen-chars-ok', true],
    ['enchant', 'too-short', false],
    ['standard-webhooks', `whsec_${Buffer.alloc(24, 7).toString('base64')}`, true],
    ['standard-webhooks', `whsec_${Buffer.alloc(32, 7).toString('base64')}`, true],
    ['standard-webhooks', `whsec_${Buffer.alloc(64, 7).toString('base64')}`, true],
    ['standard-webhooks', `whsec_${Buffer.alloc(23, 7).toString('base64')}`, false],
    ['standard-webhooks', Buffer.alloc(32, 7).toString('base64'), false],
    ['standard-webhooks', 'whsec_', false],
    ['standard-webhooks', `whsec_${'not base64!'.repeat(5)}`, false],
    ['standard-webhooks', `whsec_${Buffer.alloc(32, 7).toString('base64url')}_-`, false],
    ['standard-webhooks', `WHSEC_${Buffer.alloc(32, 7).toString('base64')}`, false],
    ['standard-webhooks', 'x'.repeat(64), false],
  ] as const)('%s %p → %p', (scheme, secret, valid) => {
    expect(isValidSecret(scheme, secret)).toBe(valid);
  });
});
