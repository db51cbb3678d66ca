/** Arbitraries for headers: credentials that authenticate nobody, odd Accept values, noise. */
import fc from 'fast-check';
import { hugeString, injectionString } from './values';

/** Authorization values that authenticate nobody (given the valid tokens, which are mutated but never reproduced). */
export function badAuthorization(validTokens: readonly string[]): fc.Arbitrary<string | undefined> {
  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 60 });
  const mutated = fc.tuple(fc.constantFrom(...validTokens), fc.nat(), fc.constantFrom('truncate', 'flip', 'append', 'prepend', 'case')).map(([t, at, how]) => {
    const i = at % t.length;
    switch (how) {
      case 'truncate':
        return t.slice(0, i);
      case 'flip':
        return t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
      case 'append':
        return `${t}x`;
      case 'prepend':
        return `x${t}`;
      default:
        return t.slice(0, i) + (t[i] === t[i].toUpperCase() ? t[i].toLowerCase() : t[i].toUpperCase()) + t.slice(i + 1);
    }
  });
  return fc
    .oneof(
      fc.constant(undefined),
      fc.constantFrom(
        '',
        'Bearer',
        'Bearer ',
        'bearer',
        'Basic dXNlcjpwYXNz',
        'Token abc',
        'Bearer hh_',
        'Bearer null',
        'Bearer undefined',
        'Bearer "hh_x"',
        'Bearer a b',
        'Bearer\u00a0hh_x',
      ),
      printable.map((s) => `Bearer ${s}`),
      printable.map((s) => `Bearer hh_${s}`),
      mutated.filter((t) => t.trim() !== '').map((t) => `Bearer ${t}`),
      fc.constantFrom(...validTokens).map((t) => `Basic ${t}`),
      fc.constantFrom(...validTokens).map((t) => `Bearer ${t} ${t}`),
      fc.constantFrom(...validTokens).map((t) => t),
      hugeString(9_000, 30_000).map((s) => `Bearer hh_${s.replace(/[^\x21-\x7e]/g, 'a')}`),
    )
    .filter((h) => h === undefined || !validTokens.includes(/^Bearer\s+(\S+)\s*$/i.exec(h.trim())?.[1] ?? ''));
}

/** Accept values, none of which may change how an error is reported. */
export const oddAccept: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'text/html',
    'application/xml',
    '*/*',
    'application/json',
    'application/problem+json',
    'text/plain;q=0',
    'application/json;q=0, */*;q=0',
    'garbage',
    ';;;',
    'image/png',
    'text/event-stream',
    '*',
    'application/*+json;q=1.5',
    '',
  ),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
);

const HEADER_TOKEN = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_!#$%&'*+.^`|~".split('')), minLength: 1, maxLength: 20 });
const RESERVED_HEADERS = [
  'content-type',
  'content-length',
  'transfer-encoding',
  'authorization',
  'host',
  'connection',
  'expect',
  'upgrade',
  'content-encoding',
  'keep-alive',
  'te',
  'trailer',
  'proxy-connection',
  'http2-settings',
];

/** Extra headers that never make a request valid or invalid: forwarding, cookies, overrides, junk. */
export const noiseHeaders: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc
    .oneof(
      fc.constantFrom(
        'x-forwarded-for',
        'x-forwarded-proto',
        'x-forwarded-host',
        'x-real-ip',
        'x-http-method-override',
        'x-method-override',
        'cookie',
        'origin',
        'referer',
        'user-agent',
        'if-none-match',
        'if-match',
        'range',
        'x-request-id',
        'accept-language',
        'accept-encoding',
        'accept-charset',
        'forwarded',
        'x-original-url',
        'x-rewrite-url',
        'x-api-key',
        'x-admin-token',
      ),
      HEADER_TOKEN,
    )
    .filter((h) => !RESERVED_HEADERS.includes(h)),
  fc
    .oneof(injectionString, fc.string({ maxLength: 40 }), fc.constantFrom('DELETE', 'PATCH', 'PUT', '/v1/tenants', 'bytes=0-1,1-2', '127.0.0.1, 10.0.0.1'))
    .map((v) => v.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim()),
  { maxKeys: 4 },
);
