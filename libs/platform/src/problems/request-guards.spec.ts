import { jsonBodyDefect } from './request-guards';

describe('jsonBodyDefect', () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };

  it('accepts ordinary documents up to the depth limit', () => {
    expect(jsonBodyDefect({ name: 'x', tags: ['a', { b: [1, null, true] }] }, 64)).toBeUndefined();
    expect(jsonBodyDefect(nested(64), 64)).toBeUndefined();
    expect(jsonBodyDefect([], 64)).toBeUndefined();
  });

  it('refuses nesting past the limit without recursing, however deep', () => {
    expect(jsonBodyDefect(nested(65), 64)).toMatch(/deeper than 64/);
    expect(jsonBodyDefect(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), 64)).toMatch(/deeper/);
  });

  it('refuses U+0000 in values and keys', () => {
    expect(jsonBodyDefect({ a: ['ok', 'x\u0000'] }, 64)).toMatch(/NUL/);
    expect(jsonBodyDefect({ a: { 'k\u0000': 1 } }, 64)).toMatch(/NUL/);
  });

  it('refuses keys the validation pipe would silently drop', () => {
    for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty']) {
      expect(jsonBodyDefect(JSON.parse(`{"map":{"${key}":1}}`), 64)).toMatch(/reserved key/);
    }
    expect(jsonBodyDefect({ tostring: 1, value_of: 2 }, 64)).toBeUndefined();
  });
});
