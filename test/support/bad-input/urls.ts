/** Arbitraries for query strings and path segments, and how the apps read them. */
import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import { hugeString, nastyString, STRIPPED_KEYS, unknownKey } from './values';

/** The query parser of the apps (Express 5 "simple"): what a query string means to them. */
export function parsedQuery(query: string): Record<string, string | string[]> {
  return parseQuery(query) as Record<string, string | string[]>;
}

export interface QueryParamSpec {
  name: string;
  /** Whether one occurrence of the parameter with this (decoded) value passes validation. */
  valid(value: string): boolean;
}

/** Whether a list route whose query parameters are `params` would accept the query. */
export function isValidQuery(query: string, params: readonly QueryParamSpec[]): boolean {
  const parsed = parsedQuery(query);
  return Object.entries(parsed).every(([k, v]) => {
    if (STRIPPED_KEYS.includes(k)) return true;
    const spec = params.find((p) => p.name === k);
    return spec !== undefined && typeof v === 'string' && spec.valid(v);
  });
}

const percentJunk = fc.constantFrom('%', '%G0', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '%%', '%2', '%u0041', '+', '%20', '%00', '%0D%0A', '%26', '%3D');

function queryValue(spec: QueryParamSpec | undefined): fc.Arbitrary<string> {
  const candidates = fc.oneof(
    nastyString,
    fc.constantFrom(
      '0',
      '-1',
      '201',
      '1.5',
      '1e2',
      '',
      ' 5',
      '0x10',
      'true',
      '[]',
      '{}',
      'ACTIVE',
      'active ',
      'ticket.*',
      'ticket.created.x',
      '2020-13-01',
      '2020-02-30T00:00:00Z',
      '2020-W01-1',
      '2026-W47-7T10:00:00Z',
      '+2020-01-01',
      'yesterday',
      '00000000-0000-0000-0000-00000000000g',
    ),
  );
  return spec ? candidates.filter((v) => !spec.valid(v)) : candidates;
}

function encodeQueryPart(s: string, how: 'encoded' | 'raw' | 'junk', junk: string): string {
  if (how === 'encoded') return pct(s);
  // raw: only what undici can carry and what does not split the query
  const raw = s.replace(/[^\x21-\x7e]|[&#=]/g, (c) => pct(c));
  return how === 'raw' ? raw : `${raw}${junk}`;
}

/**
 * A query string the route refuses: a known parameter with an invalid value,
 * an unknown parameter, or a repeated one, among other parameters; encoded,
 * raw or with broken percent-escapes. Checked against the parser the apps use.
 */
export function invalidQuery(params: readonly QueryParamSpec[]): fc.Arbitrary<string> {
  const known = params.map((p) => p.name);
  const entry = (spec: QueryParamSpec | undefined, name: fc.Arbitrary<string>) =>
    fc.tuple(name, queryValue(spec), fc.constantFrom<'encoded' | 'raw' | 'junk'>('encoded', 'encoded', 'raw', 'junk'), percentJunk);
  const badKnown = params.length ? fc.constantFrom(...params).chain((p) => entry(p, fc.constant(p.name))) : undefined;
  const unknown = entry(
    undefined,
    unknownKey(known).filter((k) => k.length <= 200),
  );
  const culprit = badKnown ? fc.oneof(badKnown, unknown) : unknown;
  const repeated = params.length
    ? fc.constantFrom(...params).chain((p) => fc.tuple(fc.constant(p.name), fc.array(fc.string({ maxLength: 8 }), { minLength: 2, maxLength: 4 })))
    : undefined;
  const any = fc.oneof(entry(undefined, fc.oneof(fc.constantFrom(...(known.length ? known : ['x'])), unknownKey(known))), unknown);
  const build = fc.tuple(fc.oneof(...(repeated ? [culprit, repeated] : [culprit])), fc.array(any, { maxLength: 4 }), fc.nat()).map(([c, others, at]) => {
    const render = ([k, v, how, junk]: [string, string, 'encoded' | 'raw' | 'junk', string]) =>
      `${encodeQueryPart(k, how === 'junk' ? 'raw' : how, '')}=${encodeQueryPart(v, how, junk)}`;
    const first =
      typeof c[1] === 'string' ? [render(c as [string, string, 'encoded' | 'raw' | 'junk', string])] : (c[1] as string[]).map((v) => `${pct(c[0])}=${pct(v)}`);
    const rest = others.map(render);
    const parts = [...rest];
    parts.splice(at % (rest.length + 1), 0, ...first);
    return parts.join('&');
  });
  return build.filter((q) => !isValidQuery(q, params));
}

/** Any query string (valid by chance or not) for routes where a success is acceptable. */
export function anyQuery(params: readonly QueryParamSpec[]): fc.Arbitrary<string> {
  const known = params.map((p) => p.name);
  return fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...(known.length ? known : ['x'])), unknownKey(known)),
        fc.oneof(queryValue(undefined), fc.string({ maxLength: 10 })),
        fc.constantFrom<'encoded' | 'raw' | 'junk'>('encoded', 'raw', 'junk'),
        percentJunk,
      ),
      { maxLength: 5 },
    )
    .map((entries) => entries.map(([k, v, how, junk]) => `${encodeQueryPart(k, 'encoded', '')}=${encodeQueryPart(v, how, junk)}`).join('&'));
}

/** encodeURIComponent that also takes lone surrogates (as U+FFFD, which is what UTF-8 encoders send). */
export function pct(s: string): string {
  return encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

/** decodeURIComponent, or undefined where it throws (Express answers 400 to those). */
export function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * A path segment that names no existing resource: random UUIDs, near-UUIDs,
 * injections, broken percent-escapes, dot segments, very long ones. It never
 * contains a raw '/', '?' or '#' (which would route elsewhere) and never
 * decodes to one of `existing` (compared case-insensitively).
 */
export function badIdSegment(existing: readonly string[]): fc.Arbitrary<string> {
  const known = existing.map((e) => e.toLowerCase());
  const uuidLike = fc
    .tuple(fc.uuid(), fc.nat(), fc.constantFrom('g', 'G', '-', '', 'ab', '{', '}', ' '))
    .map(([u, at, c]) => u.slice(0, at % 36) + c + u.slice((at % 36) + 1));
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
      { weight: 2, arbitrary: uuidLike.map((x) => pct(x)) },
      { weight: 1, arbitrary: fc.uuid().map((u) => pct(`{${u}}`)) },
      { weight: 1, arbitrary: fc.uuid().map((u) => `urn:uuid:${u}`) },
      { weight: 1, arbitrary: fc.uuid().map((u) => u.replace(/-/g, '')) },
      { weight: 3, arbitrary: nastyString.map((x) => pct(x)) },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.string({ unit: fc.constantFrom(...'abcdef0123456789-'.split('')), maxLength: 12 }), percentJunk).map(([s, j]) => `${s}${j}`),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom('.', '..', '%2e', '%2e%2e', '%2F', 'a%2Fb', '%00', '%20', '~', '*', '%3F', '%23', 'null', 'undefined', '0', '-1', 'me'),
      },
      { weight: 1, arbitrary: hugeString(2_000, 12_000).map((x) => pct(x)) },
    )
    .filter((s) => s.length > 0 && !/[/?#]/.test(s) && /^[\x21-\x7e]+$/.test(s))
    .filter((s) => {
      const d = decodedSegment(s);
      return d === undefined || (d !== '' && !known.includes(d.toLowerCase()));
    });
}
