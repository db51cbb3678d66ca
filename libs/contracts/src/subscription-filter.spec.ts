import {
  compileSubscriptionFilter,
  InvalidSubscriptionFilter,
  SUBSCRIPTION_FILTER_LIMITS,
  SUBSCRIPTION_FILTER_OPERATORS,
  subscriptionFilterErrors,
} from './subscription-filter';

const envelope = {
  id: 'evt-1',
  account_id: 'acc-1',
  type: 'ticket.updated',
  created_at: '2026-11-30T10:00:00.000Z',
  data: { changes: { state: ['new', 'open'] } },
  actor_type: 'user',
  actor_id: 'u-1',
  actor_name: null,
  model_type: 'ticket',
  model_id: 't-1',
  model: {
    id: 't-1',
    priority: 'high',
    subject: 'Refund request',
    replies: 3,
    tags: ['billing', 'vip'],
    custom: { region: 'eu' },
    lines: [
      { sku: 'a', qty: 1 },
      { sku: 'b', qty: 5 },
    ],
  },
};

const matches = (filter: Record<string, unknown>) => compileSubscriptionFilter(filter)(envelope);

describe('compileSubscriptionFilter', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['an exact value', { actor_type: 'user' }, true],
    ['an exact value that differs', { actor_type: 'system' }, false],
    ['a nested path', { 'model.custom.region': 'eu' }, true],
    ['an array holding the value', { 'model.tags': 'vip' }, true],
    ['an array index', { 'model.tags.0': 'billing' }, true],
    ['an element field across an array', { 'model.lines.sku': 'b' }, true],
    ['$eq', { 'model.priority': { $eq: 'high' } }, true],
    ['$eq null on a null field', { actor_name: { $eq: null } }, true],
    ['$ne', { 'model.priority': { $ne: 'high' } }, false],
    ['$gt', { 'model.replies': { $gt: 2 } }, true],
    ['$gt at the value', { 'model.replies': { $gt: 3 } }, false],
    ['$gte', { 'model.replies': { $gte: 3 } }, true],
    ['$lt', { 'model.replies': { $lt: 3 } }, false],
    ['$lte', { 'model.replies': { $lte: 3 } }, true],
    ['$gte on an ISO time', { created_at: { $gte: '2026-11-30T00:00:00Z' } }, true],
    ['$gt of a number against a string', { 'model.subject': { $gt: 1 } }, false],
    ['$in', { 'model.priority': { $in: ['high', 'urgent'] } }, true],
    ['$in missing the value', { 'model.priority': { $in: ['low'] } }, false],
    ['$nin', { 'model.priority': { $nin: ['low', 'normal'] } }, true],
    ['$nin on an array', { 'model.tags': { $nin: ['vip'] } }, false],
    ['$nin on a missing field', { 'model.missing': { $nin: ['x'] } }, true],
    ['$all', { 'model.tags': { $all: ['vip', 'billing'] } }, true],
    ['$all missing one', { 'model.tags': { $all: ['vip', 'spam'] } }, false],
    ['$size', { 'model.tags': { $size: 2 } }, true],
    ['$size differing', { 'model.tags': { $size: 3 } }, false],
    ['$exists true', { 'model.custom': { $exists: true } }, true],
    ['$exists false', { 'model.assignee': { $exists: false } }, true],
    ['$exists true on a missing field', { 'model.assignee': { $exists: true } }, false],
    ['$regex', { 'model.subject': { $regex: '^Refund' } }, true],
    ['$regex case-sensitive', { 'model.subject': { $regex: '^refund' } }, false],
    ['$regex with $options i', { 'model.subject': { $regex: '^refund', $options: 'i' } }, true],
    ['$regex on array elements', { 'model.tags': { $regex: '^v' } }, true],
    ['$regex on a number', { 'model.replies': { $regex: '3' } }, false],
    ['$elemMatch on element fields', { 'model.lines': { $elemMatch: { sku: 'b', qty: { $gte: 5 } } } }, true],
    ['$elemMatch needing both in one element', { 'model.lines': { $elemMatch: { sku: 'a', qty: { $gte: 5 } } } }, false],
    ['$elemMatch with operators on elements', { 'model.tags': { $elemMatch: { $in: ['vip'] } } }, true],
    ['$not on a value', { 'model.priority': { $not: { $in: ['low'] } } }, true],
    ['$not on a value that matches', { 'model.priority': { $not: { $eq: 'high' } } }, false],
    ['$not over a whole condition', { $not: { actor_type: 'user' } }, false],
    ['$and', { $and: [{ actor_type: 'user' }, { 'model.replies': { $gt: 1 } }] }, true],
    ['$and with one false', { $and: [{ actor_type: 'user' }, { 'model.replies': { $gt: 5 } }] }, false],
    ['$or', { $or: [{ actor_type: 'system' }, { 'model.priority': 'high' }] }, true],
    ['$or all false', { $or: [{ actor_type: 'system' }, { 'model.priority': 'low' }] }, false],
    ['$nor', { $nor: [{ actor_type: 'system' }, { 'model.priority': 'low' }] }, true],
    ['nested $or in $and', { $and: [{ $or: [{ type: 'ticket.created' }, { type: 'ticket.updated' }] }, { actor_type: 'user' }] }, true],
    ['the example of #15', { 'model.priority': { $in: ['high', 'urgent'] }, actor_type: 'user' }, true],
    ['an empty filter', {}, true],
  ])('%s', (_name, filter, expected) => {
    expect(subscriptionFilterErrors(filter)).toEqual([]);
    expect(matches(filter)).toBe(expected);
  });

  it('compares whole objects exactly when the condition has no operators', () => {
    expect(matches({ 'model.custom': { region: 'eu' } })).toBe(true);
    expect(matches({ 'model.custom': { region: 'eu', extra: 1 } })).toBe(false);
  });

  it('runs $regex in linear time: a pattern that backtracks exponentially in JavaScript finishes at once', () => {
    const test = compileSubscriptionFilter({ 'model.subject': { $regex: '^(a+)+$' } });
    const started = performance.now();
    expect(test({ model: { subject: `${'a'.repeat(5_000)}!` } })).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses to compile a filter that validation refuses', () => {
    expect(() => compileSubscriptionFilter({ a: { $where: 'true' } })).toThrow(InvalidSubscriptionFilter);
  });
});

describe('subscriptionFilterErrors', () => {
  const allowed = SUBSCRIPTION_FILTER_OPERATORS.join(', ');

  it('names an unknown operator and where it is', () => {
    expect(subscriptionFilterErrors({ 'model.priority': { $inn: ['high'] } })).toEqual([
      { pointer: '#/filter/model.priority/$inn', detail: `unknown operator $inn; the operators are ${allowed}` },
    ]);
  });

  it.each([
    ['$where', { $where: 'this.model.priority === "high"' }, '#/filter/$where'],
    ['$where', { 'model.priority': { $where: 'true' } }, '#/filter/model.priority/$where'],
    ['$function', { 'model.priority': { $function: { body: 'return true', args: [], lang: 'js' } } }, '#/filter/model.priority/$function'],
    ['$accumulator', { $and: [{ a: { $accumulator: {} } }] }, '#/filter/$and/0/a/$accumulator'],
  ])('refuses %s: filters cannot run code', (op, filter, pointer) => {
    expect(subscriptionFilterErrors(filter)).toEqual([{ pointer, detail: `${op} is not allowed: a filter cannot run code` }]);
  });

  it.each(['$expr', '$jsonSchema', '$mod', '$type', '$text', '$comment'])('names %s as unsupported', (op) => {
    expect(subscriptionFilterErrors({ 'model.replies': { [op]: 1 } })).toEqual([
      { pointer: `#/filter/model.replies/${op}`, detail: `${op} is not supported; the operators are ${allowed}` },
    ]);
  });

  it.each<[string, unknown, string, string]>([
    ['not an object', ['a'], '#/filter', 'filter must be an object of conditions on the event, or null'],
    ['a string', 'actor_type = user', '#/filter', 'filter must be an object of conditions on the event, or null'],
    ['a value operator at the top', { $in: ['a'] }, '#/filter/$in', `$in applies to a field's value: put it under a field, e.g. {"model.state": {"$in": …}}`],
    ['$or under a field', { a: { $or: [{ b: 1 }] } }, '#/filter/a/$or', expect.stringContaining('$or combines whole conditions') as unknown as string],
    ['an empty $or', { $or: [] }, '#/filter/$or', '$or takes a non-empty list of conditions'],
    ['$and not a list', { $and: { a: 1 } }, '#/filter/$and', '$and takes a non-empty list of conditions'],
    ['a condition of $nor not an object', { $nor: [1] }, '#/filter/$nor/0', 'must be an object of conditions, e.g. {"model.state": "open"}'],
    ['$in not a list', { a: { $in: 'high' } }, '#/filter/a/$in', '$in takes a list of values'],
    ['an operator inside $in', { a: { $in: [{ $gt: 1 }] } }, '#/filter/a/$in/0/$gt', '$gt cannot be used inside $in, which lists exact values'],
    ['an operator inside an exact value', { a: { b: { $gt: 1 } } }, '#/filter/a/b/$gt', '$gt cannot be used inside an exact value'],
    ['$gt of an object', { a: { $gt: { b: 1 } } }, '#/filter/a/$gt', '$gt takes a number or a string (times are ISO-8601 strings)'],
    ['$exists of a number', { a: { $exists: 1 } }, '#/filter/a/$exists', '$exists takes true or false'],
    ['$size negative', { a: { $size: -1 } }, '#/filter/a/$size', '$size takes a number of elements (a whole number, 0 or more)'],
    ['$size fractional', { a: { $size: 1.5 } }, '#/filter/a/$size', '$size takes a number of elements (a whole number, 0 or more)'],
    ['$regex not a string', { a: { $regex: 1 } }, '#/filter/a/$regex', '$regex takes a pattern as a string'],
    ['$options alone', { a: { $options: 'i' } }, '#/filter/a/$options', '$options goes with $regex'],
    ['$options with another flag', { a: { $regex: 'x', $options: 'x' } }, '#/filter/a/$options', '$options takes the flags i, m and s'],
    ['$not of a value', { a: { $not: 'x' } }, '#/filter/a/$not', '$not takes operators on the value, e.g. {"$not": {"$in": ["low"]}}'],
    [
      '$elemMatch of a list',
      { a: { $elemMatch: [1] } },
      '#/filter/a/$elemMatch',
      '$elemMatch takes an object: operators on each element, or conditions on its fields',
    ],
    [
      'operators mixed with a field',
      { a: { $gt: 1, b: 2 } },
      '#/filter/a/b',
      "'b' sits among operators: a condition is either operators or an exact value, not both",
    ],
    [
      'an empty part of a path',
      { 'model..priority': 1 },
      '#/filter/model..priority',
      "field path 'model..priority' has an empty part: names are separated by single dots",
    ],
    [
      'a path into the prototype',
      { 'model.__proto__.x': 1 },
      '#/filter/model.__proto__.x',
      "field path 'model.__proto__.x' names __proto__, which no envelope has",
    ],
    ['a $ part in a path', { 'model.$x': 1 }, '#/filter/model.$x', "field path 'model.$x' has a part starting with $, which only operators do"],
  ])('refuses %s', (_name, filter, pointer, detail) => {
    expect(subscriptionFilterErrors(filter)).toEqual([{ pointer, detail }]);
  });

  it('escapes JSON pointer segments (RFC 6901)', () => {
    expect(subscriptionFilterErrors({ 'a/b~c': { $bad: 1 } })[0].pointer).toBe('#/filter/a~1b~0c/$bad');
  });

  it('refuses patterns RE2 cannot run (back-references, look-around) and long ones', () => {
    expect(subscriptionFilterErrors({ a: { $regex: '(a)\\1' } })).toEqual([
      { pointer: '#/filter/a/$regex', detail: expect.stringContaining('$regex is not an RE2 pattern') as unknown as string },
    ]);
    expect(subscriptionFilterErrors({ a: { $regex: '(?=a)b' } })[0].pointer).toBe('#/filter/a/$regex');
    expect(subscriptionFilterErrors({ a: { $regex: 'a'.repeat(SUBSCRIPTION_FILTER_LIMITS.maxPatternLength) } })).toEqual([]);
    expect(subscriptionFilterErrors({ a: { $regex: 'a'.repeat(SUBSCRIPTION_FILTER_LIMITS.maxPatternLength + 1) } })).toEqual([
      { pointer: '#/filter/a/$regex', detail: '$regex patterns are at most 256 characters' },
    ]);
  });

  it('refuses a filter over 4 KiB of JSON', () => {
    const filter = { 'model.id': { $in: Array.from({ length: 400 }, (_, i) => `ticket-${i}`) } };
    expect(subscriptionFilterErrors(filter)).toEqual([
      { pointer: '#/filter', detail: expect.stringMatching(/^filter is \d+ bytes of JSON; at most 4096/) as unknown as string },
    ]);
  });

  it('refuses nesting deeper than 8 levels, pointing at the first level too deep', () => {
    // The filter, $and's list, its condition, $or's list, its condition, model.lines' operators, $elemMatch's condition, qty's operators: 8.
    const eight = { $and: [{ $or: [{ 'model.lines': { $elemMatch: { qty: { $gte: 1 } } } }] }] };
    expect(subscriptionFilterErrors(eight)).toEqual([]);
    const nine = { $and: [{ $or: [{ $nor: [{ a: { $in: [1] } }] }] }] };
    expect(subscriptionFilterErrors(nine)).toEqual([
      { pointer: '#/filter/$and/0/$or/0/$nor/0/a/$in', detail: 'filter nests objects and arrays more than 8 levels deep' },
    ]);
  });

  it('lists every error, at most 20', () => {
    expect(subscriptionFilterErrors({ a: { $bad: 1 }, b: { $worse: 1 } }).map((e) => e.pointer)).toEqual(['#/filter/a/$bad', '#/filter/b/$worse']);
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, { $x: 1 }]));
    expect(subscriptionFilterErrors(many)).toHaveLength(20);
  });

  it('takes another base pointer', () => {
    expect(subscriptionFilterErrors({ a: { $x: 1 } }, '#/items/0/filter')[0].pointer).toBe('#/items/0/filter/a/$x');
  });
});
