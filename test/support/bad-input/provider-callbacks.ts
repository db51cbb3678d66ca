/**
 * Provider callbacks for the provider-ingest bad-input suite: the fixtures it
 * connects (one connection per provider) and arbitraries for callbacks that
 * must all be refused: signatures missing, garbage or made with another key,
 * bodies any provider could send or none would, multipart that busboy may
 * choke on.
 */
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import fc from 'fast-check';
import { plivoV3SignedString, twilioSignature, vonageSignature, type ProviderName } from '@hookhub/providers';
import type { Connection } from '../ingest';
import * as bad from './index';
import {
  gupshupMessageEvent,
  mailgunEventData,
  metaJson,
  metaStatusPayload,
  sendgridEvent,
  sendgridKeyPair,
  SES_DELIVERY_NOTIFICATION,
  snsNotification,
  SnsSigner,
  snsStringToSign,
  type UnsignedSnsMessage,
} from '@hookhub/testing';

export type Provider = ProviderName;
export type Method = 'GET' | 'POST';

/** The body limit the suite gives provider-ingest (INGEST_BODY_LIMIT=256kb): large bodies are built around it. */
export const BODY_LIMIT = 256 * 1024;

/* ------------------------------------------------------------ primitives */

export const secret = (): string => randomBytes(16).toString('hex');
const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
/** What undici can put in a header value (and Node accepts): no control characters but tab, nothing beyond U+00FF. */
const headerSafe = (s: string): string => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim();
export const query = (entries: ReadonlyArray<readonly [string, string]>): string => entries.map(([k, v]) => `${bad.pct(k)}=${bad.pct(v)}`).join('&');

const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
export const hexString = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: min, maxLength: max });
export const token = fc.string({ unit: alnum, minLength: 1, maxLength: 40 });
/** A key no connection has: every real secret is 32 hex digits, never with this prefix. */
export const wrongKey = fc.string({ unit: alnum, maxLength: 40 }).map((s) => `wrong-${s}`);
const base64 = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b).toString('base64'));
/** Header values that carry no credential at all. */
const garbageHeader: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      '',
      ' ',
      'null',
      'undefined',
      '0',
      '-1',
      'true',
      '[]',
      '{}',
      'sha256=',
      'sha1=abc',
      'Bearer',
      'Basic',
      'Basic Og==',
      'v1,abc',
      'a.b.c',
      '..',
      'eyJhbGciOiJub25lIn0.e30.',
    ),
    bad.injectionString,
    fc.string({ maxLength: 60 }),
    base64,
    hexString(1, 130),
    bad.hugeString(1_000, 8_000),
  )
  .map(headerSafe);
/** A time around now (reaching the signature check), stale, in the future, or not a time. */
export const timestampArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -60, max: 60 }).map((d) => String(nowSeconds() + d)) },
  { weight: 1, arbitrary: fc.integer({ min: 700, max: 10_000_000 }).map((d) => String(nowSeconds() - d)) },
  { weight: 1, arbitrary: fc.integer({ min: 700, max: 10_000_000 }).map((d) => String(nowSeconds() + d)) },
  { weight: 1, arbitrary: fc.constantFrom('', '0', '-1', '1e9', '999999999999', '9999999999999', 'NaN', ' 1', '1.5', '0x10', String(Date.now())) },
);

/** Header names that are also names of Object.prototype members: the controller copies headers into a plain object. */
const protoHeaders: fc.Arbitrary<Record<string, string>> = fc
  .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'), garbageHeader)
  .map(([name, value]) => Object.defineProperty({}, name, { value, enumerable: true, writable: true, configurable: true }) as Record<string, string>);
export const noise = fc.record({
  accept: fc.option(bad.oddAccept, { nil: undefined }),
  extra: fc.option(fc.oneof({ weight: 4, arbitrary: bad.noiseHeaders }, { weight: 1, arbitrary: protoHeaders }), { nil: undefined, freq: 2 }),
});
export const withNoise = (headers: Record<string, string>, n: { accept?: string; extra?: Record<string, string> }): Record<string, string> => {
  const out: Record<string, string> = { ...(n.accept === undefined ? {} : { accept: n.accept }) };
  for (const [k, v] of Object.entries(n.extra ?? {})) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  // The generated headers win, whatever their case.
  for (const name of Object.keys(headers)) delete out[name.toLowerCase()];
  return { ...out, ...headers };
};

/* ------------------------------------------------- provider-shaped bodies */

const STATUS_WORDS = [
  'delivered',
  'sent',
  'read',
  'failed',
  'undelivered',
  'queued',
  'bounce',
  'open',
  'Delivery',
  'expired',
  'delivery_failed',
  'rejected',
  'x',
];
const statusWord = fc.oneof(fc.constantFrom(...STATUS_WORDS), fc.string({ maxLength: 12 }));
export const messageId = fc.oneof(
  token,
  fc.uuid(),
  bad.nastyString.filter((s) => s.length < 200),
);

interface Shaped {
  contentType?: string;
  body: Buffer;
  /** Form/JSON fields, for signatures computed over parameters. */
  params?: Array<[string, string]>;
}

export const form = (params: Array<[string, string]>): Shaped => ({
  contentType: 'application/x-www-form-urlencoded',
  body: Buffer.from(new URLSearchParams(params).toString(), 'utf8'),
  params,
});
export const json = (value: unknown, contentType = 'application/json'): Shaped => ({ contentType, body: Buffer.from(JSON.stringify(value), 'utf8') });

function multipartBody(boundary: string, fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts = fields.map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  return Buffer.from(`${parts.join('')}--${boundary}--\r\n`, 'utf8');
}

/** A body each provider could send (before the signature is added). */
export const shapedBody: Record<Provider, fc.Arbitrary<Shaped>> = {
  sendgrid: fc.array(fc.tuple(statusWord, messageId), { minLength: 1, maxLength: 4 }).map((events) => ({
    contentType: 'application/json',
    body: Buffer.from(`${JSON.stringify(events.map(([e, id]) => sendgridEvent(e, { sg_event_id: id })))}\r\n`, 'utf8'),
  })),
  sendgrid_inbound: fc.tuple(token, fc.string({ maxLength: 40 }), fc.string({ maxLength: 200 })).map(([boundary, subject, text]) => ({
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: multipartBody(boundary, [
      ['headers', `Message-ID: <${boundary}@example.com>\nSubject: ${subject}`],
      ['from', 'Customer <customer@example.com>'],
      ['to', 'support+t-1@acme.example.com'],
      ['subject', subject],
      ['text', text],
    ]),
  })),
  mailgun: fc
    .tuple(
      statusWord,
      timestampArb,
      token,
      fc.oneof(
        wrongKey.map((k) => ({ k })),
        hexString(0, 70).map((h) => ({ h })),
      ),
    )
    .map(([event, ts, tok, sig]) => {
      const signature =
        'k' in sig
          ? createHmac('sha256', sig.k)
              .update(ts + tok)
              .digest('hex')
          : sig.h;
      return json({ signature: { timestamp: ts, token: tok, signature }, 'event-data': mailgunEventData(event) });
    }),
  twilio_sms: fc.tuple(messageId, statusWord).map(([sid, status]) =>
    form([
      ['MessageSid', sid],
      ['MessageStatus', status],
      ['To', '+15558675310'],
      ['AccountSid', 'AC1'],
    ]),
  ),
  twilio_whatsapp: fc.tuple(messageId, statusWord).map(([sid, status]) =>
    form([
      ['MessageSid', sid],
      ['MessageStatus', status],
      ['To', 'whatsapp:+15558675310'],
      ['ChannelPrefix', 'whatsapp'],
    ]),
  ),
  meta_whatsapp: fc.tuple(messageId, statusWord).map(([id, status]) => ({
    contentType: 'application/json',
    body: Buffer.from(metaJson(metaStatusPayload([{ id, status, timestamp: String(nowSeconds()), recipient_id: '15558675310' }])), 'utf8'),
  })),
  messagebird: fc.tuple(messageId, statusWord, fc.boolean()).map(([id, status, asJson]) =>
    asJson
      ? json({ id, status, recipient: '31612345678', statusDatetime: '2025-03-04T09:15:00+00:00' })
      : form([
          ['id', id],
          ['status', status],
          ['recipient', '31612345678'],
        ]),
  ),
  ses: fc.tuple(token, fc.string({ maxLength: 30 })).map(([id, subject]) => ({
    contentType: 'text/plain; charset=UTF-8',
    body: Buffer.from(
      JSON.stringify({
        ...snsNotification(SES_DELIVERY_NOTIFICATION, { topicArn: 'arn:aws:sns:us-east-1:123456789012:x', messageId: id, subject }),
        SignatureVersion: '1',
        Signature: 'AAAA',
        SigningCertURL: 'https://sns.us-east-1.amazonaws.com/x.pem',
      }),
    ),
  })),
  gupshup: fc
    .tuple(messageId, statusWord)
    .map(([id, type]) => json(gupshupMessageEvent({ type, gupshupId: id, whatsappId: `wamid.${id}`, destination: '15558675310', timestamp: Date.now() }))),
  vonage: fc.tuple(messageId, statusWord, fc.boolean()).map(([id, status, asJson]) => {
    const params: Array<[string, string]> = [
      ['messageId', id],
      ['status', status],
      ['msisdn', '447700900000'],
      ['to', 'Acme'],
      ['err-code', '0'],
    ];
    return asJson ? { ...json(Object.fromEntries(params)), params } : form(params);
  }),
  plivo: fc.tuple(messageId, statusWord).map(([id, status]) =>
    form([
      ['MessageUUID', id],
      ['Status', status],
      ['To', '15558675310'],
    ]),
  ),
};

/* ------------------------------------------------------------- fixtures */

export interface Fixture {
  provider: Provider;
  conn: Connection;
  path: string;
  credentials: Record<string, string>;
}

export interface World {
  fixtures: Record<Provider, Fixture>;
  sns: SnsSigner;
  topicArn: string;
}

/** One request before it is sent: the query is raw (as sent), the URL the provider would have signed is the connection's URL plus it. */
export interface Draft {
  provider: Provider;
  method: Method;
  query: string;
  headers: Record<string, string>;
  body: bad.BadRequest['body'];
  why: string;
}

const rogueEc = sendgridKeyPair(); // never the connection's key: its private half was thrown away
const rogueRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const SIG = {
  sendgrid: 'x-twilio-email-event-webhook-signature',
  sendgridTs: 'x-twilio-email-event-webhook-timestamp',
  twilio: 'x-twilio-signature',
  meta: 'x-hub-signature-256',
  mbJwt: 'messagebird-signature-jwt',
  mbLegacy: 'messagebird-signature',
  mbTs: 'messagebird-request-timestamp',
  plivoV3: 'x-plivo-signature-v3',
  plivoV3Nonce: 'x-plivo-signature-v3-nonce',
  plivoV2: 'x-plivo-signature-v2',
  plivoV2Nonce: 'x-plivo-signature-v2-nonce',
};

const b64url = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');

/** A MessageBird JWT whose claims would all pass, signed the wrong way. */
function messagebirdJwt(
  url: string,
  body: Buffer,
  how: { alg: string; key: string | null; claims?: Record<string, unknown>; header?: Record<string, unknown> },
): string {
  const now = nowSeconds();
  const header = b64url({ alg: how.alg, typ: 'JWT', ...how.header });
  const claims = b64url({
    iss: 'MessageBird',
    nbf: now - 1,
    exp: now + 60,
    jti: randomBytes(8).toString('hex'),
    url_hash: sha256Hex(url),
    ...(body.length > 0 ? { payload_hash: sha256Hex(body) } : {}),
    ...how.claims,
  });
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[how.alg];
  const signature = how.key === null || !hash ? '' : createHmac(hash, how.key).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${signature}`;
}

/**
 * Signature material for `provider` over this body and URL: missing,
 * garbage, or computed the provider's way with a key the connection does not
 * have. Body-carried signatures (Mailgun, SNS, Vonage POST) are in the body
 * generators; here they get garbage headers.
 */
export function signatureHeaders(
  w: World,
  provider: Provider,
  method: Method,
  url: string,
  shaped: Shaped,
): fc.Arbitrary<{ headers: Record<string, string>; why: string }> {
  const none = fc.constant({ headers: {}, why: 'no signature' });
  const garbageIn = (...names: string[]) =>
    fc.tuple(fc.constantFrom(...names), garbageHeader).map(([name, value]) => ({ headers: { [name]: value }, why: `garbage ${name}` }));
  const params = shaped.params ?? [];
  const grouped = new Map<string, string[]>();
  if (method === 'POST') for (const [k, v] of params) grouped.set(k, [...(grouped.get(k) ?? []), v]);
  switch (provider) {
    case 'sendgrid':
    case 'sendgrid_inbound': {
      const ecdsa = timestampArb.map((ts) => ({
        headers: {
          [SIG.sendgrid]: cryptoSign('sha256', Buffer.concat([Buffer.from(ts), shaped.body]), rogueEc.privateKey).toString('base64'),
          [SIG.sendgridTs]: ts,
        },
        why: 'ECDSA signature by another key',
      }));
      const garbage = fc
        .tuple(garbageHeader, timestampArb)
        .map(([sig, ts]) => ({ headers: { [SIG.sendgrid]: sig, [SIG.sendgridTs]: ts }, why: 'garbage ECDSA signature' }));
      if (provider === 'sendgrid') return fc.oneof(none, ecdsa, garbage, garbageIn(SIG.sendgrid, SIG.sendgridTs));
      const user = w.fixtures.sendgrid_inbound.credentials.username;
      const basic = fc
        .tuple(
          fc.oneof(fc.constant(user), fc.string({ maxLength: 20 }), fc.constant(user.toUpperCase()), fc.constant('')),
          fc.oneof(wrongKey, fc.constant(''), fc.string({ maxLength: 30 })),
          fc.constantFrom('Basic', 'basic', 'BASIC'),
        )
        .filter(([, pw]) => pw !== w.fixtures.sendgrid_inbound.credentials.password)
        .map(([u, pw, scheme]) => `${scheme} ${Buffer.from(`${u}:${pw}`, 'utf8').toString('base64')}`);
      const authorization = fc.oneof(
        basic,
        basic,
        garbageHeader,
        fc.constantFrom('Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, 'Bearer abc', `Basic ${b64url(`${user}:x`)}`),
      );
      return fc.tuple(authorization, fc.option(fc.oneof(ecdsa, garbage), { nil: undefined })).map(([auth, sig]) => ({
        headers: { authorization: auth, ...(sig?.headers ?? {}) },
        why: `wrong Basic auth${sig ? `, ${sig.why}` : ''}`,
      }));
    }
    case 'twilio_sms':
    case 'twilio_whatsapp': {
      const hmac = wrongKey.map((k) => ({ headers: { [SIG.twilio]: twilioSignature(k, url, grouped) }, why: 'X-Twilio-Signature with another token' }));
      return fc.oneof(none, hmac, hmac, garbageIn(SIG.twilio));
    }
    case 'meta_whatsapp': {
      const hmac = fc.tuple(wrongKey, fc.constantFrom('sha256=', 'SHA256=', 'sha256= ', 'sha1=', '')).map(([k, prefix]) => ({
        headers: { [SIG.meta]: `${prefix}${createHmac('sha256', k).update(shaped.body).digest('hex')}` },
        why: 'X-Hub-Signature-256 with another secret',
      }));
      const randomHex = hexString(64, 64).map((h) => ({ headers: { [SIG.meta]: `sha256=${h}` }, why: 'random X-Hub-Signature-256' }));
      return fc.oneof(none, hmac, hmac, randomHex, garbageIn(SIG.meta, 'x-hub-signature'));
    }
    case 'messagebird': {
      const body = shaped.body;
      const jwt = fc
        .tuple(
          fc.constantFrom('HS256', 'HS384', 'HS512', 'none', 'RS256', 'hs256', ''),
          fc.option(wrongKey, { nil: null }),
          fc.constantFrom<Record<string, unknown> | undefined>(
            undefined,
            { exp: undefined },
            { iss: 'messagebird' },
            { url_hash: 'x' },
            { exp: 1e12 },
            { nbf: -1 },
            { payload_hash: null },
          ),
          fc.constantFrom<Record<string, unknown> | undefined>(undefined, { crit: ['b64'] }, { kid: '../../etc/passwd' }),
        )
        .map(([alg, key, claims, header]) => ({
          headers: { [SIG.mbJwt]: messagebirdJwt(url, body, { alg, key, claims, header }) },
          why: `MessageBird JWT (${alg}) with another key`,
        }));
      const jwtGarbage = fc
        .tuple(fc.oneof(base64, fc.string({ maxLength: 20 })), fc.oneof(base64, fc.string({ maxLength: 20 })), fc.oneof(base64, fc.constant('')))
        .map(([a, b, c]) => ({ headers: { [SIG.mbJwt]: headerSafe(`${a}.${b}.${c}`) || '.' }, why: 'garbage JWT' }));
      const legacy = fc.tuple(wrongKey, timestampArb).map(([k, ts]) => {
        const q = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
        const signed = Buffer.concat([Buffer.from(`${ts}\n${q}\n`), createHash('sha256').update(body).digest()]);
        return {
          headers: { [SIG.mbLegacy]: createHmac('sha256', k).update(signed).digest('base64'), [SIG.mbTs]: ts },
          why: 'legacy MessageBird-Signature with another key',
        };
      });
      return fc.oneof(none, jwt, jwt, jwtGarbage, legacy, garbageIn(SIG.mbJwt, SIG.mbLegacy, SIG.mbTs));
    }
    case 'plivo': {
      const nonce = fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), minLength: 1, maxLength: 20 }), token);
      const v3 = fc.tuple(wrongKey, nonce, fc.constantFrom(SIG.plivoV3, 'x-plivo-signature-ma-v3'), fc.boolean()).map(([k, n, header, many]) => {
        const sig = createHmac('sha256', k)
          .update(plivoV3SignedString(method, url, grouped, n))
          .digest('base64');
        return {
          headers: { [header]: many ? `${sig}, ${sig.split('').reverse().join('')}, x` : sig, [SIG.plivoV3Nonce]: n },
          why: 'X-Plivo-Signature-V3 with another token',
        };
      });
      const v2 = fc.tuple(wrongKey, nonce).map(([k, n]) => ({
        headers: {
          [SIG.plivoV2]: createHmac('sha256', k)
            .update(url.split('?')[0] + n)
            .digest('base64'),
          [SIG.plivoV2Nonce]: n,
        },
        why: 'X-Plivo-Signature-V2 with another token',
      }));
      return fc.oneof(none, v3, v3, v2, garbageIn(SIG.plivoV3, SIG.plivoV3Nonce, SIG.plivoV2, SIG.plivoV2Nonce, 'x-plivo-signature-ma-v3'));
    }
    case 'gupshup': {
      const real = w.fixtures.gupshup.credentials.header_value;
      const value = fc
        .oneof(
          hexString(32, 32).map((h) => `Bearer ${h}`),
          wrongKey.map((k) => `Bearer ${k}`),
          garbageHeader,
        )
        .filter((v) => v !== real);
      return fc.oneof(
        none,
        value.map((v) => ({ headers: { authorization: v }, why: 'wrong Authorization' })),
        fc
          .tuple(fc.constantFrom('x-api-key', 'x-authorization', 'proxy-authorization', 'cookie'), value)
          .map(([name, v]) => ({ headers: { [name]: v }, why: `credential in ${name}` })),
      );
    }
    case 'mailgun':
      return fc.oneof(none, garbageIn('x-mailgun-signature', 'authorization'));
    case 'ses':
      return fc.oneof(
        none,
        fc
          .constantFrom('Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation', 'notification', '')
          .map((t) => ({ headers: { 'x-amz-sns-message-type': t }, why: `x-amz-sns-message-type ${t}` })),
      );
    case 'vonage':
      return fc.oneof(none, garbageIn('x-vonage-signature', 'authorization', 'sig'));
  }
}

/** A URL the adapter would try to download a certificate from (which fails, answered 503 by design): never generated but the trusted one. */
function isLoopbackPem(value: string): boolean {
  try {
    const u = new URL(value);
    return u.hostname === '127.0.0.1' && u.pathname.endsWith('.pem');
  } catch {
    return false;
  }
}

/** A signed-looking SNS message: signed with a key other than the certificate's, or tampered with, or pointing elsewhere. */
function forgedSns(w: World): fc.Arbitrary<{ body: Buffer; headers: Record<string, string>; why: string }> {
  const type = fc.constantFrom<UnsignedSnsMessage['Type']>('Notification', 'Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation');
  const certUrl = fc
    .oneof(
      { weight: 6, arbitrary: fc.constant(w.sns.certUrl) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
          'http://example.com/cert.pem',
          w.sns.certUrl.replace('.pem', '.txt'),
          w.sns.certUrl.replace('http://', 'http://user:pw@'),
          w.sns.certUrl.replace('http://', 'ftp://'),
          w.sns.certUrl.replace('127.0.0.1', '127.0.0.1.nip.io'),
          'file:///etc/passwd',
          '',
          'not a url',
        ),
      },
      { weight: 1, arbitrary: bad.nastyString },
    )
    .filter((u) => u === w.sns.certUrl || !isLoopbackPem(u));
  const topic = fc.oneof(
    { weight: 5, arbitrary: fc.constant(w.topicArn) },
    { weight: 1, arbitrary: fc.constantFrom(`${w.topicArn}-other`, w.topicArn.toUpperCase(), '') },
  );
  return fc
    .tuple(
      type,
      topic,
      token,
      fc.oneof(fc.constant(JSON.stringify(SES_DELIVERY_NOTIFICATION)), bad.nastyString),
      certUrl,
      fc.oneof({ weight: 6, arbitrary: fc.constantFrom('1', '2') }, { weight: 1, arbitrary: fc.constantFrom('3', '', '1 ') }),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant('rogue') },
        { weight: 2, arbitrary: fc.constant('tampered') },
        { weight: 2, arbitrary: fc.constant('random') },
        { weight: 1, arbitrary: fc.constant('empty') },
      ),
      fc.boolean(),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant('same') },
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('Notification', 'SubscriptionConfirmation', 'notification', '') },
      ),
    )
    .map(([t, topicArn, id, message, url, version, how, pretty, headerType]) => {
      const unsigned: UnsignedSnsMessage = { Type: t, MessageId: id, TopicArn: topicArn, Message: message, Timestamp: new Date().toISOString() };
      if (t !== 'Notification') {
        unsigned.Token = id;
        unsigned.SubscribeURL = w.sns.subscribeUrl(topicArn, id);
      }
      const algorithm = version === '2' ? 'sha256' : 'sha1';
      const signature =
        how === 'random'
          ? randomBytes(256).toString('base64')
          : how === 'empty'
            ? ''
            : cryptoSign(algorithm, Buffer.from(snsStringToSign(unsigned), 'utf8'), rogueRsa).toString('base64');
      const sent: Record<string, string> = {
        ...(unsigned as unknown as Record<string, string>),
        SignatureVersion: version,
        Signature: signature,
        SigningCertURL: url,
      };
      // "tampered": signed by the rogue key, then a signed field changed as well
      if (how === 'tampered') sent.Message = `${sent.Message} `;
      const messageType = headerType === 'same' ? t : headerType;
      return {
        body: Buffer.from(JSON.stringify(sent, null, pretty ? 2 : undefined), 'utf8'),
        headers: { 'content-type': 'text/plain; charset=UTF-8', ...(messageType === undefined ? {} : { 'x-amz-sns-message-type': messageType }) },
        why: `SNS ${t} (${how} signature v${version}, cert ${url.slice(0, 60)})`,
      };
    });
}

/** Vonage receipts signed the Vonage way with another secret (or not at all), as a query, a form or JSON. */
function forgedVonage(transport: 'GET' | 'form' | 'json'): fc.Arbitrary<{ params: Array<[string, string]>; why: string }> {
  return fc
    .tuple(
      shapedBody.vonage,
      timestampArb,
      fc.option(token, { nil: undefined }),
      fc.oneof(
        fc
          .tuple(wrongKey, fc.constantFrom('md5hash', 'md5', 'sha1', 'sha256', 'sha512') as fc.Arbitrary<'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512'>)
          .map(([k, m]) => ({ k, m })),
        fc.oneof(hexString(0, 128), garbageHeader).map((g) => ({ g })),
        fc.constant({ none: true }),
      ),
    )
    .map(([shaped, ts, nonce, sig]) => {
      const params: Array<[string, string]> = [
        ...(shaped.params ?? []),
        ['timestamp', ts],
        ...(nonce === undefined ? [] : ([['nonce', nonce]] as Array<[string, string]>)),
      ];
      if ('k' in sig) params.push(['sig', vonageSignature(new Map(params), sig.k, sig.m)]);
      else if ('g' in sig) params.push(['sig', sig.g]);
      return {
        params,
        why: `Vonage receipt (${transport}) ${'k' in sig ? `signed ${sig.m} with another secret` : 'g' in sig ? 'with a garbage sig' : 'without sig'}`,
      };
    });
}

/**
 * A complete forged callback for `provider` at `query`: a provider-shaped body
 * with signature material that cannot verify.
 */
export function forgedCallback(w: World, provider: Provider, method: Method, rawQuery: string): fc.Arbitrary<Omit<Draft, 'provider'>> {
  const url = w.fixtures[provider].conn.url + (rawQuery ? `?${rawQuery}` : '');
  const draft = (query: string, headers: Record<string, string>, body: Buffer | undefined, why: string) => ({
    method,
    query,
    headers,
    body: method === 'GET' ? undefined : body,
    why,
  });
  if (provider === 'ses') {
    return forgedSns(w).map((sns) => draft(rawQuery, sns.headers, sns.body, sns.why));
  }
  if (provider === 'vonage') {
    if (method === 'GET') return forgedVonage('GET').map((v) => draft([rawQuery, query(v.params)].filter(Boolean).join('&'), {}, undefined, v.why));
    return fc
      .constantFrom<'form' | 'json'>('form', 'json')
      .chain((t) =>
        forgedVonage(t).map((v) =>
          t === 'json'
            ? draft(rawQuery, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(Object.fromEntries(v.params))), v.why)
            : draft(rawQuery, { 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(new URLSearchParams(v.params).toString()), v.why),
        ),
      );
  }
  if (provider === 'messagebird' && method === 'GET') {
    return fc.tuple(messageId, statusWord).chain(([id, status]) => {
      const q = [
        rawQuery,
        query([
          ['id', id],
          ['status', status],
          ['recipient', '31612345678'],
          ['statusDatetime', '2025-03-04T09:15:00 00:00'],
        ]),
      ]
        .filter(Boolean)
        .join('&');
      return signatureHeaders(w, provider, method, `${w.fixtures[provider].conn.url}?${q}`, { body: Buffer.alloc(0) }).map((sig) =>
        draft(q, sig.headers, undefined, `GET report, ${sig.why}`),
      );
    });
  }
  // Twilio's JSON callbacks sign the URL with the body's SHA-256 in it.
  if (provider.startsWith('twilio') && method === 'POST') {
    const jsonVariant = fc.tuple(messageId, statusWord, fc.boolean()).chain(([sid, status, rightHash]) => {
      const body = Buffer.from(JSON.stringify({ MessageSid: sid, MessageStatus: status }));
      const q = [rawQuery, `bodySHA256=${rightHash ? sha256Hex(body) : sha256Hex(`${sid}x`)}`].filter(Boolean).join('&');
      return signatureHeaders(w, provider, method, `${w.fixtures[provider].conn.url}?${q}`, { body }).map((sig) =>
        draft(q, { 'content-type': 'application/json', ...sig.headers }, body, `JSON callback (${rightHash ? 'right' : 'wrong'} bodySHA256), ${sig.why}`),
      );
    });
    const formVariant = shapedBody[provider].chain((shaped) =>
      signatureHeaders(w, provider, method, url, shaped).map((sig) =>
        draft(rawQuery, { ...(shaped.contentType ? { 'content-type': shaped.contentType } : {}), ...sig.headers }, shaped.body, sig.why),
      ),
    );
    return fc.oneof({ weight: 3, arbitrary: formVariant }, { weight: 1, arbitrary: jsonVariant });
  }
  if (provider === 'mailgun') {
    // Mailgun signs inside the body: JSON events, or form/multipart Routes posts.
    const routeFields = fc
      .tuple(
        timestampArb,
        token,
        fc.oneof(
          wrongKey.map((k) => ({ k })),
          hexString(0, 70).map((h) => ({ h })),
        ),
        fc.constantFrom<'form' | 'multipart'>('form', 'multipart'),
        token,
      )
      .map(([ts, tok, sig, enc, boundary]) => {
        const signature =
          'k' in sig
            ? createHmac('sha256', sig.k)
                .update(ts + tok)
                .digest('hex')
            : sig.h;
        const fields: Array<[string, string]> = [
          ['timestamp', ts],
          ['token', tok],
          ['signature', signature],
          ['from', 'Customer <c@example.com>'],
          ['subject', 'Re: hi'],
          ['body-plain', 'hello'],
        ];
        return enc === 'form'
          ? { ...form(fields), why: 'Routes form post with a signature by another key' }
          : {
              contentType: `multipart/form-data; boundary=${boundary}`,
              body: multipartBody(boundary, fields),
              why: 'Routes multipart post with a signature by another key',
            };
      });
    const event = shapedBody.mailgun.map((s) => ({ ...s, why: 'event with a signature by another key' }));
    return fc
      .tuple(fc.oneof(event, routeFields), signatureHeaders(w, provider, method, url, { body: Buffer.alloc(0) }))
      .map(([s, sig]) => draft(rawQuery, { ...(s.contentType ? { 'content-type': s.contentType } : {}), ...sig.headers }, s.body, `${s.why}, ${sig.why}`));
  }
  return shapedBody[provider].chain((shaped) =>
    signatureHeaders(w, provider, method, url, shaped).map((sig) =>
      draft(rawQuery, { ...(shaped.contentType ? { 'content-type': shaped.contentType } : {}), ...sig.headers }, shaped.body, sig.why),
    ),
  );
}

/* ------------------------------------------------------- garbage bodies */

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain; charset=UTF-8',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-16',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary="unterminated',
  'multipart/form-data; boundary=' + 'b'.repeat(200),
  'multipart/mixed; boundary=xyz',
  'application/octet-stream',
  'text/xml',
  'message/rfc822',
  'image/png',
  '*/*',
  'application/jwt',
];
export const anyContentType: fc.Arbitrary<string | undefined> = fc.option(
  fc.oneof(
    fc.constantFrom(...CONTENT_TYPES),
    bad.nonJsonContentType,
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }).map(headerSafe),
  ),
  { nil: undefined, freq: 5 },
);

/** Bytes that are no provider's callback, or a provider's with its bytes damaged. */
export function garbageBody(provider: Provider): fc.Arbitrary<{ body: Buffer | string; why: string }> {
  const damaged = fc.tuple(shapedBody[provider], fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, at, byte]) => {
    const b = Buffer.from(s.body);
    if (b.length > 0) b[at % b.length] = byte;
    return { body: b, why: 'damaged provider body' };
  });
  const formGarbage = fc
    .array(
      fc.tuple(
        bad.nastyString.filter((s) => s.length < 100),
        bad.nastyString.filter((s) => s.length < 300),
        fc.constantFrom('', '%', '%G0', '%FF', '+', '&&', '='),
      ),
      { maxLength: 8 },
    )
    .map((pairs) => ({ body: pairs.map(([k, v, junk]) => `${bad.pct(k)}=${bad.pct(v)}${junk}`).join('&'), why: 'form garbage' }));
  return fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 4_096 }).map((b) => ({ body: Buffer.from(b), why: 'random bytes' })) },
    { weight: 2, arbitrary: bad.nastyString.map((s) => ({ body: s, why: 'random text' })) },
    { weight: 2, arbitrary: damaged },
    {
      weight: 2,
      arbitrary: shapedBody[provider].chain((s) =>
        bad.withInvalidUtf8(s.body.toString('utf8')).map((b) => ({ body: Buffer.from(b), why: 'invalid UTF-8 in a provider body' })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({
        body: Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bad.INVALID_UTF8.flat()), Buffer.from(b), Buffer.from('"}')]),
        why: 'invalid UTF-8',
      })),
    },
    { weight: 2, arbitrary: formGarbage },
    { weight: 1, arbitrary: bad.malformedJson.map((m) => ({ body: m.text, why: m.why })) },
    { weight: 1, arbitrary: bad.deepJson(100, 20_000).map((body) => ({ body, why: 'deeply nested JSON' })) },
    { weight: 1, arbitrary: fc.constant({ body: '', why: 'empty body' }) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 50_000, max: BODY_LIMIT - 1_000 })
        .map((n) => ({ body: bad.jsonOfSize(n), why: `large body of ${n} bytes (under the limit)` })),
    },
  );
}

/** multipart/form-data that busboy may choke on: truncated, unterminated, wrong boundary, bare LFs, odd part headers, too many parts. */
export const multipartGarbage: fc.Arbitrary<{ contentType: string; body: Buffer; why: string }> = (() => {
  const boundary = fc.oneof(
    fc.constantFrom('xyz', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a'.repeat(70), 'a'.repeat(71), '-', '"quoted"', 'b;c', 'x y'),
    fc.string({ unit: alnum, minLength: 1, maxLength: 30 }),
  );
  const name = fc.oneof(
    fc.constantFrom(
      'timestamp',
      'token',
      'signature',
      'email',
      'from',
      'to',
      'headers',
      'text',
      'html',
      'attachment1',
      'attachment-1',
      'attachment-info',
      'attachments',
      'body-mime',
      'message-headers',
      'envelope',
      'charsets',
    ),
    bad.nastyString.filter((s) => s.length < 100),
  );
  const partHeaders = fc.oneof(
    fc
      .tuple(
        name,
        fc.option(
          bad.nastyString.filter((s) => s.length < 100),
          { nil: undefined },
        ),
        fc.option(
          fc.oneof(
            fc.constantFrom(...CONTENT_TYPES),
            fc.constantFrom('text/plain; charset=utf-16', 'text/plain; charset=x-unknown', 'text/plain; charset=', 'application/octet-stream'),
          ),
          { nil: undefined },
        ),
      )
      .map(
        ([n, filename, type]) =>
          `Content-Disposition: form-data; name="${n}"${filename === undefined ? '' : `; filename="${filename}"`}${type === undefined ? '' : `\r\nContent-Type: ${type}`}`,
      ),
    fc.constantFrom(
      'Content-Disposition: form-data',
      'Content-Disposition: attachment; name="a"',
      'Content-Disposition: form-data; name=',
      'Content-Disposition: form-data; name="a"; filename*=utf-8\'\'%FF%FE',
      "Content-Disposition: form-data; name*=x-unknown''a",
      'Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64',
      'Content-Type: multipart/mixed; boundary=inner',
      'X-Junk',
      ': empty name',
      '',
    ),
    bad.hugeString(9_000, 60_000).map((s) => `X-Big: ${headerSafe(s)}`),
  );
  const value = fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    bad.nastyString.map((s) => Buffer.from(s, 'utf8')),
  );
  const part = fc.tuple(partHeaders, value);
  return fc
    .tuple(
      boundary,
      fc.option(boundary, { nil: undefined, freq: 4 }),
      fc.array(part, { minLength: 0, maxLength: 6 }),
      fc.constantFrom('well-formed', 'truncated', 'no closing boundary', 'bare LF', 'preamble junk', 'many fields', 'many files', 'nested'),
      fc.nat(),
    )
    .map(([b, declared, parts, how, at]) => {
      const eol = how === 'bare LF' ? '\n' : '\r\n';
      let list: Array<[string, Buffer]> = parts;
      if (how === 'many fields')
        list = Array.from({ length: 1_100 }, (_, i) => [`Content-Disposition: form-data; name="f${i}"`, Buffer.from('v')] as [string, Buffer]);
      if (how === 'many files')
        list = Array.from(
          { length: 120 },
          (_, i) =>
            [`Content-Disposition: form-data; name="attachment${i}"; filename="a${i}.txt"\r\nContent-Type: text/plain`, Buffer.from('x')] as [string, Buffer],
        );
      if (how === 'nested')
        list = [
          [
            `Content-Disposition: form-data; name="email"\r\nContent-Type: multipart/mixed; boundary=inner`,
            Buffer.from(`--inner${eol}Content-Type: text/plain${eol}${eol}hi${eol}--inner`),
          ],
        ];
      const chunks: Buffer[] = how === 'preamble junk' ? [Buffer.from(`junk before${eol}`)] : [];
      for (const [headers, v] of list) chunks.push(Buffer.from(`--${b}${eol}${headers.replace(/\r\n/g, eol)}${eol}${eol}`), v, Buffer.from(eol));
      if (how !== 'no closing boundary') chunks.push(Buffer.from(`--${b}--${eol}`));
      let body = Buffer.concat(chunks);
      if (how === 'truncated' && body.length > 0) body = body.subarray(0, at % body.length);
      return {
        contentType: `multipart/form-data; boundary=${declared ?? b}`,
        body,
        why: `multipart: ${how}${declared !== undefined && declared !== b ? ', other boundary declared' : ''} (${list.length} parts)`,
      };
    });
})();
