/** Arbitraries for field values: nasty strings, JSON of the wrong type, unknown keys. */
import fc from 'fast-check';

/** Strings that injection scanners and parsers tend to choke on. */
export const INJECTION_STRINGS = [
  "' OR '1'='1",
  "'; DROP TABLE tenants; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5)--',
  "') OR 1=1--",
  '1 UNION SELECT NULL,NULL--',
  '$where',
  '{"$gt":""}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}',
  '${7*7}',
  '#{7*7}',
  '${jndi:ldap://127.0.0.1/a}',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '%2e%2e%2f',
  '\u0000',
  'a\u0000b',
  '\r\nX-Injected: 1',
  '%s%s%s%n',
  '`id`',
  '$(id)',
  '|| ls',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '9'.repeat(400),
  'toString',
  'hasOwnProperty',
  'valueOf',
  '\uFEFF',
  '\u202E',
  '\u2028\u2029',
  '\uD800',
  '\uDFFF',
  '😀',
  'ﷺ',
  'ǅ',
  '\u0085',
  '\u00a0',
  ' ',
  '',
];

export const injectionString = fc.constantFrom(...INJECTION_STRINGS);

/** `unit` repeated to a length between min and max (fast, even for hundreds of kilobytes). */
export function hugeString(min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min, max }))
    .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n))
    .filter((s) => s.length >= min);
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const controlChar = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));

/** Any string worth sending: injections, control characters, lone surrogates, astral characters, long ones. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: injectionString },
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.oneof(loneSurrogate, controlChar, fc.constantFrom('\\', '"', '%', '/', '?', '#', '&', '=', '+')), maxLength: 12 }),
  },
  { weight: 1, arbitrary: hugeString(1_000, 12_000) },
);

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a value holds a key the apps refuse in any JSON body (see STRIPPED_KEYS). */
export function hasReservedKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasReservedKey);
  return isPlainObject(v) && Object.entries(v).some(([k, x]) => STRIPPED_KEYS.includes(k) || hasReservedKey(x));
}

/**
 * Any JSON value (maxDepth keeps it cheap); nested keys are random strings,
 * but not the reserved ones fast-check likes to produce: those are refused
 * before validation, and the point of a nested value is to reach it.
 */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 }).filter((v) => !hasReservedKey(v));

/**
 * Keys that do not make a query string invalid: the validation pipe deletes
 * the first three, and class-transformer skips keys naming an inherited
 * method, so forbidNonWhitelisted never sees them (in JSON bodies the apps
 * refuse them outright). Never produced by unknownKey.
 */
export const STRIPPED_KEYS = ['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)];

/** Field names that are in none of `known` (nor stripped by the validation pipe). */
export function unknownKey(known: readonly string[]): fc.Arbitrary<string> {
  return fc
    .oneof(fc.string({ maxLength: 20 }), injectionString, fc.constantFrom('id', 'tenant_id', 'admin', 'roles ', 'Name', 'URL', 'state', 'x'.repeat(300)))
    .filter((k) => !known.includes(k) && !STRIPPED_KEYS.includes(k));
}

/** A JSON value of the wrong type for a field, never null (null means "absent" to optional fields). */
export const notAString = anyJson.filter((v) => typeof v !== 'string' && v !== null);
export const notAnArray = anyJson.filter((v) => !Array.isArray(v) && v !== null);
export const notAnObject = anyJson.filter((v) => !isPlainObject(v) && v !== null);
export const notABoolean = anyJson.filter((v) => typeof v !== 'boolean' && v !== null);
export function notAnIntegerIn(min: number, max: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    anyJson.filter((v) => typeof v !== 'number' && v !== null),
    fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d) || d < min || d > max),
    fc.oneof(fc.integer({ min: -(2 ** 31), max: min - 1 }), fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER })),
    fc.constantFrom(String(min), String(max), '1', '1e3', '0x10'),
  );
}
/** Strings failing `valid`, or values that are not strings. */
export function invalidString(valid: (s: string) => boolean, extra: fc.Arbitrary<string>[] = []): fc.Arbitrary<unknown> {
  return fc.oneof(
    notAString,
    fc.oneof(nastyString, ...extra).filter((s) => !valid(s)),
  );
}
