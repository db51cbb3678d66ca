import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { WebhookVerificationError } from './errors';
import { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from './verify';

const whsec = (bytes: Buffer = randomBytes(32)): string => `whsec_${bytes.toString('base64')}`;
const hex = (secret: string, body: string): string => createHmac('sha256', secret).update(body).digest('hex');
const body = JSON.stringify({ id: 'evt-1', type: 'ticket.created', model: { id: 't-1', subject: 'Ünïcode ✓' } });
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Headers of a Standard Webhooks request signed by the reference library, one signature per secret. */
function standardHeaders(secrets: string[], id: string, timestamp: number, payload: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(id, new Date(timestamp * 1000), payload)).join(' '),
  };
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.code;
    throw err;
  }
  return 'verified';
}

describe('verifyWebhook, standard-webhooks, against the standardwebhooks library', () => {
  const secret = whsec();

  it('verifies what the library signs, and the library verifies the same requests', () => {
    const headers = standardHeaders([secret], 'msg_1', nowSeconds(), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    const verified = verifyWebhook(Buffer.from(body), headers, secret, { scheme: 'standard-webhooks' });
    expect(verified).toMatchObject({ scheme: 'standard-webhooks', secretIndex: 0, deliveryId: 'msg_1', payload: JSON.parse(body) });
    expect(verifyWebhook(body, headers, secret).scheme).toBe('standard-webhooks');
  });

  it('agrees with the library on random bodies, ids, times and secrets, tampered or not', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
        fc.integer({ min: -900, max: 900 }),
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        fc.constantFrom('none', 'body', 'id', 'secret'),
        (text, id, offset, key, tamper) => {
          const payload = JSON.stringify({ text });
          const signingSecret = whsec(Buffer.from(key));
          const headers = standardHeaders([signingSecret], id, nowSeconds() + offset, payload);
          const sent = tamper === 'body' ? JSON.stringify({ text: `${text}!` }) : payload;
          if (tamper === 'id') headers['webhook-id'] = `${id}x`;
          const receiverSecret = tamper === 'secret' ? whsec() : signingSecret;
          // Stay clear of the tolerance's edge, where the two may read the clock a second apart.
          if (Math.abs(Math.abs(offset) - 300) <= 2) return;
          let library = true;
          try {
            new Webhook(receiverSecret).verify(sent, headers);
          } catch {
            library = false;
          }
          expect(codeOf(() => verifyWebhook(sent, headers, receiverSecret, { scheme: 'standard-webhooks' })) === 'verified').toBe(library);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses timestamps beyond the tolerance (5 minutes by default, configurable) as the library does', () => {
    const old = standardHeaders([secret], 'msg_old', nowSeconds() - 310, body);
    const ahead = standardHeaders([secret], 'msg_new', nowSeconds() + 310, body);
    expect(() => new Webhook(secret).verify(body, old)).toThrow(/too old/);
    expect(() => new Webhook(secret).verify(body, ahead)).toThrow(/too new/);
    expect(codeOf(() => verifyWebhook(body, old, secret))).toBe('timestamp_too_old');
    expect(codeOf(() => verifyWebhook(body, ahead, secret))).toBe('timestamp_too_new');
    expect(codeOf(() => verifyWebhook(body, standardHeaders([secret], 'msg_ok', nowSeconds() - 290, body), secret))).toBe('verified');

    const tight: VerifyWebhookOptions = { toleranceSeconds: 30 };
    expect(codeOf(() => verifyWebhook(body, standardHeaders([secret], 'msg_60', nowSeconds() - 60, body), secret, tight))).toBe('timestamp_too_old');
    expect(codeOf(() => verifyWebhook(body, old, secret, { toleranceSeconds: 600 }))).toBe('verified');
    // The clock can be given, e.g. to check a stored request against the time it arrived.
    expect(codeOf(() => verifyWebhook(body, old, secret, { now: (nowSeconds() - 310) * 1000 }))).toBe('verified');
  });

  it('passes during a rotation with either secret, and with both secrets held', () => {
    const [next, previous] = [whsec(), whsec()];
    const headers = standardHeaders([next, previous], 'msg_rot', nowSeconds(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook(body, headers, next).secretIndex).toBe(0);
    expect(verifyWebhook(body, headers, previous).secretIndex).toBe(0);
    expect(verifyWebhook(body, headers, [whsec(), previous]).secretIndex).toBe(1);
    expect(codeOf(() => verifyWebhook(body, headers, [whsec(), whsec()]))).toBe('invalid_signature');
  });

  it('skips signatures of other versions and needs its id and an integer timestamp', () => {
    const headers = standardHeaders([secret], 'msg_v', nowSeconds(), body);
    const v1 = headers['webhook-signature'].slice(3);
    expect(codeOf(() => verifyWebhook(body, { ...headers, 'webhook-signature': `v2,${v1}` }, secret))).toBe('invalid_signature');
    expect(codeOf(() => verifyWebhook(body, { ...headers, 'webhook-signature': `v2,${v1} v1,${v1}` }, secret))).toBe('verified');
    // Repeated headers, as Node (an array, or joined with ", ") and fetch (joined) hand them over.
    const other = standardHeaders([whsec()], 'msg_v', nowSeconds(), body)['webhook-signature'];
    const repeated = new Headers({ 'webhook-id': headers['webhook-id'], 'webhook-timestamp': headers['webhook-timestamp'] });
    repeated.append('webhook-signature', other);
    repeated.append('webhook-signature', headers['webhook-signature']);
    expect(codeOf(() => verifyWebhook(body, repeated, secret))).toBe('verified');
    expect(codeOf(() => verifyWebhook(body, { ...headers, 'webhook-signature': [other, headers['webhook-signature']] }, secret))).toBe('verified');
    expect(codeOf(() => verifyWebhook(body, { ...headers, 'webhook-signature': `v1,${v1}x` }, secret))).toBe('invalid_signature');
    expect(codeOf(() => verifyWebhook(body, { ...headers, 'webhook-id': '' }, secret))).toBe('missing_header');
    expect(codeOf(() => verifyWebhook(body, { ...headers, 'webhook-timestamp': '12.5' }, secret))).toBe('missing_header');
    expect(codeOf(() => verifyWebhook(body, { ...headers, 'webhook-signature': '' }, secret, { scheme: 'standard-webhooks' }))).toBe('missing_signature');
    expect(codeOf(() => verifyWebhook(body, headers, 'whsec_not base64!'))).toBe('invalid_secret');
  });
});

describe('verifyWebhook, sha256 and enchant', () => {
  const secret = 'my-webhook-secret-123';

  it('verifies `sha256=<hex>` and bare `<hex>`, and nothing signed with another secret or body', () => {
    const sha = { 'x-webhook-signature': `sha256=${hex(secret, body)}`, 'x-webhook-delivery': 'd-1', 'x-webhook-event': 'ticket.created' };
    expect(verifyWebhook(body, sha, secret)).toMatchObject({ scheme: 'sha256', deliveryId: 'd-1', eventType: 'ticket.created', timestamp: undefined });
    expect(verifyWebhook(body, { 'enchant-signature': hex(secret, body) }, secret).scheme).toBe('enchant');
    expect(codeOf(() => verifyWebhook(body, sha, 'another-secret-4567'))).toBe('invalid_signature');
    expect(codeOf(() => verifyWebhook(`${body} `, sha, secret))).toBe('invalid_signature');
    // The schemes do not stand in for each other: a bare hex is no `sha256=` signature.
    expect(codeOf(() => verifyWebhook(body, { 'x-webhook-signature': hex(secret, body) }, secret))).toBe('invalid_signature');
    expect(codeOf(() => verifyWebhook(body, sha, secret, { scheme: 'enchant' }))).toBe('missing_signature');
  });

  it('passes during a rotation (`<new>,<old>`) with either secret', () => {
    const next = 'my-new-webhook-secret-456';
    const both = { 'x-webhook-signature': `sha256=${hex(next, body)},sha256=${hex(secret, body)}` };
    expect(verifyWebhook(body, both, secret).secretIndex).toBe(0);
    expect(verifyWebhook(body, both, next).secretIndex).toBe(0);
    expect(verifyWebhook(body, both, ['unrelated-secret-000', secret]).secretIndex).toBe(1);
    const enchant = { 'enchant-signature': `${hex(next, body)}, ${hex(secret, body)}` };
    expect(verifyWebhook(body, enchant, secret, { scheme: 'enchant' }).scheme).toBe('enchant');
  });

  it('reads headers as Node, fetch and hand-written objects hold them', () => {
    const value = `sha256=${hex(secret, body)}`;
    const forms: WebhookHeaders[] = [
      { 'x-webhook-signature': value },
      { 'X-Webhook-Signature': value },
      new Headers({ 'X-Webhook-Signature': value }),
      { 'x-webhook-signature': ['sha256=0000', value] },
    ];
    for (const headers of forms) expect(verifyWebhook(Buffer.from(body), headers, secret).scheme).toBe('sha256');
  });

  it('refuses requests without a signature, without a secret, or whose body is not JSON', () => {
    expect(codeOf(() => verifyWebhook(body, {}, secret))).toBe('missing_signature');
    expect(codeOf(() => verifyWebhook(body, { 'x-webhook-signature': `sha256=${hex(secret, body)}` }, []))).toBe('no_secret');
    expect(codeOf(() => verifyWebhook(body, { 'x-webhook-signature': `sha256=${hex(secret, body)}` }, ''))).toBe('no_secret');
    expect(codeOf(() => verifyWebhook('not json', { 'x-webhook-signature': `sha256=${hex(secret, 'not json')}` }, secret))).toBe('invalid_payload');
  });
});
