/** Arbitraries for request bodies: malformed or deep JSON, invalid UTF-8, wrong content types and encodings, oversized bodies. */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { gzipSync, gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import type { BadRequest } from './requests';
import { anyJson, nastyString, STRIPPED_KEYS } from './values';

// type-is is what body-parser and the apps use to decide whether a body is JSON; asking it avoids guessing.

const typeis = require('type-is') as { is(mediaType: string, types: string[]): string | false };

/** JSON text nested `depth` levels deep: arrays, objects or both. */
export function deepJson(minDepth: number, maxDepth: number): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min: minDepth, max: maxDepth }), fc.constantFrom('array', 'object', 'mixed')).map(([depth, kind]) => {
    const open = kind === 'array' ? '[' : kind === 'object' ? '{"a":' : '[{"a":';
    const close = kind === 'array' ? ']' : kind === 'object' ? '}' : '}]';
    const levels = kind === 'mixed' ? Math.ceil(depth / 2) : depth;
    return open.repeat(levels) + '1' + close.repeat(levels);
  });
}

/** True when body-parser's strict JSON parser accepts the text (an object or array, maybe after a BOM). */
export function parsesAsJsonBody(text: string): boolean {
  const t = text.replace(/^\uFEFF/, '');
  if (t.length === 0) return true; // an empty body counts as {}
  if (!/^[ \t\n\r]*[{[]/.test(t)) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

const CORRUPTIONS: Array<[string, (s: string, at: number, junk: string) => string]> = [
  ['truncated', (s, at) => s.slice(0, Math.max(1, at % Math.max(1, s.length)))],
  ['junk inserted', (s, at, junk) => s.slice(0, at % (s.length + 1)) + junk + s.slice(at % (s.length + 1))],
  ['char replaced', (s, at, junk) => s.slice(0, at % s.length) + (junk || '}') + s.slice((at % s.length) + 1)],
  ['trailing junk', (s, _, junk) => s + (junk || ',')],
  ['second document', (s) => `${s}${s}`],
  ['single quotes', (s) => s.replace(/"/g, "'")],
  ['trailing comma', (s) => s.replace(/([}\]])$/, ',$1')],
  ['comment', (s) => `/* hi */${s}`],
  ['unquoted keys', (s) => s.replace(/"([^"\\]*)":/g, '$1:')],
  ['NaN', (s) => s.replace(/\d+(\.\d+)?/, 'NaN')],
  ['raw newline in string', (s) => s.replace(/"/, '"\n')],
  ['bad escape', (s) => s.replace(/"/, '"\\x')],
  ['short unicode escape', (s) => s.replace(/"/, '"\\u12')],
  ['unterminated', (s) => `${s}"`],
];

/** Text that body-parser refuses as JSON: corrupted documents, primitives at the top, prose, whitespace. */
export const malformedJson: fc.Arbitrary<{ text: string; why: string }> = fc
  .oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.oneof(
            anyJson.filter((v) => typeof v === 'object' && v !== null),
            fc.constant({ name: 'x' }),
          ),
          fc.nat(),
          fc.string({ maxLength: 4 }),
          fc.integer({ min: 0, max: CORRUPTIONS.length - 1 }),
        )
        .map(([v, at, junk, i]) => ({ text: CORRUPTIONS[i][1](JSON.stringify(v), at, junk), why: `malformed JSON (${CORRUPTIONS[i][0]})` })),
    },
    {
      weight: 2,
      arbitrary: anyJson.filter((v) => typeof v !== 'object' || v === null).map((v) => ({ text: JSON.stringify(v), why: 'JSON primitive at top level' })),
    },
    { weight: 2, arbitrary: nastyString.map((text) => ({ text, why: 'not JSON at all' })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          ' ',
          '\n',
          '\t\r\n ',
          'null',
          'true',
          '"{}"',
          '{',
          '[',
          '}',
          ']',
          '{]',
          '[}',
          '{"a"}',
          '{"a":}',
          '{,}',
          '[,]',
          '[1,,2]',
          '{"a":1,}',
          "{'a':1}",
          '{"a":01}',
          '{"a":.5}',
          '{"a":+1}',
          '{"a":0x10}',
          '{"a":Infinity}',
          '{"a":undefined}',
          '<xml/>',
          'a=1&b=2',
          '--boundary\r\n',
        )
        .map((text) => ({ text, why: 'malformed JSON (classic)' })),
    },
  )
  .filter(({ text }) => !parsesAsJsonBody(text));

/** Invalid UTF-8 byte sequences (overlong, surrogates, beyond U+10FFFF, truncated, stray continuation bytes). */
export const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

/**
 * `json` (a valid document) with invalid UTF-8 bytes put inside one of its
 * string literals, so only the encoding is wrong.
 */
export function withInvalidUtf8(json: string): fc.Arbitrary<Uint8Array> {
  const bytes = Buffer.from(json, 'utf8');
  const insideStrings: number[] = [];
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x22 && bytes[i - 1] !== 0x5c) {
      inString = !inString;
      if (inString) insideStrings.push(i + 1);
    }
  }
  const positions = insideStrings.length ? insideStrings : [bytes.length];
  return fc
    .tuple(fc.constantFrom(...positions), fc.array(fc.constantFrom(...INVALID_UTF8), { minLength: 1, maxLength: 3 }))
    .map(([at, seqs]) => Buffer.concat([bytes.subarray(0, at), Buffer.from(seqs.flat()), bytes.subarray(at)]))
    .filter((b) => !isUtf8(b));
}

export const JSON_TYPES = ['application/json', 'application/*+json'];

/** Content-Type values that are not JSON to type-is (hence to body-parser and the apps). */
export const nonJsonContentType: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      'text/plain',
      'text/plain; charset=utf-8',
      'text/json',
      'text/html',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/xml',
      'application/octet-stream',
      'application/jsonp',
      'application/json-patch',
      'application/javascript',
      'application/x-json',
      'application/json5',
      'application/jsonx',
      'image/png',
      'json',
      'application',
      'application/',
      '/json',
      '*/*',
      'application/*',
      ';',
      ',',
      'application/json, text/plain',
      'application/json;;',
      'application/json; charset',
      'application/json; charset=',
      'application/json; =utf-8',
      'application/json; charset="utf-8',
      'app lication/json',
    ),
    fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  )
  .filter((ct) => ct.trim() !== '' && !typeis.is(ct, JSON_TYPES));

/** JSON content types whose charset body-parser refuses (415). */
export const unsupportedJsonCharset: fc.Arbitrary<string> = fc
  .constantFrom(
    'latin1',
    'iso-8859-1',
    'us-ascii',
    'ascii',
    'windows-1252',
    'utf-8x',
    'utf-9',
    'utf-0',
    'utf-',
    'utf-8-bogus',
    'ebcdic',
    'binary',
    'base64',
    'koi8-r',
    'shift_jis',
    'x-unknown',
  )
  .map((cs) => `application/json; charset=${cs}`);

/** Content-Encoding values body-parser cannot decode. */
export const unknownContentEncoding: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom('foo', 'compress', 'x-compress', 'gzip2', 'pack200-gzip', 'exi', 'aes128gcm', '*', 'gzip, foo', 'chunked'),
    fc.string({ unit: fc.integer({ min: 0x61, max: 0x7a }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 10 }),
  )
  .filter((e) => !['identity', 'gzip', 'deflate', 'br', 'zstd', 'x-gzip'].includes(e.toLowerCase()));

/** Bytes that claim to be compressed but are not. */
export const corruptCompressedBody: fc.Arbitrary<{ encoding: string; body: Uint8Array }> = fc
  .tuple(
    fc.constantFrom('gzip', 'deflate', 'br'),
    fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.constant(new Uint8Array(Buffer.from('{"name":"x"}')))),
  )
  .map(([encoding, body]) => ({ encoding, body }))
  .filter(({ encoding, body }) => {
    try {
      const out = encoding === 'gzip' ? gunzipSync(body) : encoding === 'deflate' ? inflateSync(body) : brotliDecompressSync(body);
      return !parsesAsJsonBody(out.toString('utf8'));
    } catch {
      return true;
    }
  });

/** A valid JSON object of `size` bytes (padding in one string field). */
export function jsonOfSize(size: number, field = 'padding'): string {
  const shell = JSON.stringify({ [field]: '' });
  return JSON.stringify({ [field]: 'x'.repeat(Math.max(0, size - shell.length)) });
}

/** A well-formed JSON body over `limitBytes`: sent whole, streamed (chunked) or gzip-compressed (a small bomb). */
export interface BodyAttack {
  headers: Record<string, string>;
  body: BadRequest['body'];
  why: string;
}

export function oversizedBody(limitBytes: number): fc.Arbitrary<BodyAttack> {
  return fc
    .tuple(fc.integer({ min: limitBytes + 1, max: limitBytes + 200_000 }), fc.constantFrom('whole', 'chunked', 'gzip'))
    .map(([size, how]): BodyAttack => {
      const text = jsonOfSize(size);
      if (how === 'gzip')
        return {
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: new Uint8Array(gzipSync(text)),
          why: `gzip bomb inflating to ${size} bytes`,
        };
      if (how === 'chunked') {
        const buf = Buffer.from(text);
        return {
          headers: { 'content-type': 'application/json' },
          body: () =>
            (async function* () {
              for (let i = 0; i < buf.length; i += 65_536) yield buf.subarray(i, i + 65_536);
            })(),
          why: `chunked body of ${size} bytes`,
        };
      }
      return { headers: { 'content-type': 'application/json' }, body: text, why: `body of ${size} bytes` };
    });
}

/**
 * A body that must be refused before any route sees it: malformed JSON,
 * invalid UTF-8, U+0000, a key the validation pipe would drop, a non-JSON type (unless `requireJson: false`), an
 * unsupported charset or encoding, corrupt compression, nesting too deep, or
 * too large. `validJson` is a document the route would accept, used where
 * only the framing is wrong.
 */
export function brokenBody(validJson: string, limitBytes: number, options: { maxDepth?: number; requireJson?: boolean } = {}): fc.Arbitrary<BodyAttack> {
  const json = { 'content-type': 'application/json' };
  const w = (weight: number, arbitrary: fc.Arbitrary<BodyAttack>) => ({ weight, arbitrary });
  // Apps that take any body (requireJson: false) ignore bodies that are not JSON: those are no attack there.
  const notJson =
    options.requireJson === false
      ? []
      : [
          w(
            2,
            fc
              .tuple(
                nonJsonContentType,
                fc.oneof(
                  fc.constant(validJson),
                  nastyString.filter((s) => s.length > 0),
                ),
              )
              .map(([ct, body]) => ({ headers: { 'content-type': ct }, body, why: 'not a JSON content type' })),
          ),
          w(
            1,
            fc.constant(validJson).map((body) => ({ headers: {}, body, why: 'no content type' })),
          ),
        ];
  return fc.oneof(
    w(
      4,
      fc
        .tuple(malformedJson, fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/merge-patch+json', 'APPLICATION/JSON'))
        .map(([m, ct]) => ({ headers: { 'content-type': ct }, body: m.text, why: m.why })),
    ),
    w(
      2,
      withInvalidUtf8(validJson).map((body) => ({ headers: json, body, why: 'invalid UTF-8 in a string' })),
    ),
    ...notJson,
    w(
      1,
      unsupportedJsonCharset.map((ct) => ({ headers: { 'content-type': ct }, body: validJson, why: 'unsupported charset' })),
    ),
    w(
      1,
      unknownContentEncoding.map((e) => ({ headers: { ...json, 'content-encoding': e }, body: validJson, why: 'unknown content encoding' })),
    ),
    w(
      1,
      corruptCompressedBody.map(({ encoding, body }) => ({ headers: { ...json, 'content-encoding': encoding }, body, why: 'corrupt compressed body' })),
    ),
    w(
      1,
      deepJson((options.maxDepth ?? 64) + 1, 20_000).map((body) => ({ headers: json, body, why: 'nested too deep' })),
    ),
    w(
      1,
      fc
        .tuple(
          fc.constantFrom(...STRIPPED_KEYS),
          fc.boolean(),
          anyJson.map((x) => JSON.stringify(x)),
        )
        .map(([k, nested, v]) => ({
          headers: json,
          body: nested ? `{"a":[{${JSON.stringify(k)}:${v}}]}` : `{${JSON.stringify(k)}:${v}}`,
          why: `reserved key ${k}`,
        })),
    ),
    w(
      1,
      fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), fc.boolean()).map(([a, b, inKey]) => ({
        headers: json,
        body: JSON.stringify(inKey ? { [`${a}\u0000${b}`]: 1 } : { nul: `${a}\u0000${b}` }),
        why: 'U+0000 in the JSON',
      })),
    ),
    w(1, oversizedBody(limitBytes)),
  );
}
