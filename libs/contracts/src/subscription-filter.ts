import { RE2JS } from 're2js';
import {
  $all,
  $and,
  $elemMatch,
  $eq,
  $exists,
  $gt,
  $gte,
  $in,
  $lt,
  $lte,
  $ne,
  $nin,
  $nor,
  $not,
  $options,
  $or,
  $size,
  createEqualsOperation,
  createQueryTester,
} from 'sift';

/**
 * Payload filters: a subscription's condition on the event envelope, in
 * MongoDB query syntax (as Convoy's filters are), e.g.
 * `{"model.priority": {"$in": ["high", "urgent"]}, "actor_type": "user"}`.
 * The admin API checks a filter with `subscriptionFilterErrors` before storing
 * it; the dispatcher compiles it once per subscription version with
 * `compileSubscriptionFilter` and runs it on each event at fan-out. Evaluation
 * is sift's (MongoDB's semantics for missing fields, arrays and nested paths),
 * restricted to the operators below; nothing here evaluates a query itself.
 */
export type SubscriptionFilter = Record<string, unknown>;

/**
 * Bounds of a filter, so one subscription cannot make every fan-out of its tenant slow:
 * the size of its JSON (UTF-8 bytes), how deep objects and arrays nest, the length of a
 * field path and of a `$regex` pattern.
 */
export const SUBSCRIPTION_FILTER_LIMITS = { maxBytes: 4_096, maxDepth: 8, maxFieldPathLength: 256, maxPatternLength: 256 } as const;

/** Combine whole conditions (on the envelope, or on an array element inside `$elemMatch`). */
const LOGICAL_OPERATORS = ['$and', '$or', '$nor'] as const;
/** Apply to the value at a field path. `$not` also negates a whole condition, as sift allows. */
const VALUE_OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$all',
  '$exists',
  '$size',
  '$regex',
  '$options',
  '$elemMatch',
  '$not',
] as const;

/** Every operator a filter may use. */
export const SUBSCRIPTION_FILTER_OPERATORS: readonly string[] = [...LOGICAL_OPERATORS, ...VALUE_OPERATORS];

/** MongoDB operators that run code the caller wrote: never, whatever sift could do with them. */
const CODE_OPERATORS = new Set(['$where', '$function', '$accumulator']);
/** Other MongoDB query operators, named as unsupported rather than unknown. */
const UNSUPPORTED_OPERATORS = new Set([
  '$expr',
  '$jsonSchema',
  '$mod',
  '$type',
  '$text',
  '$comment',
  '$rand',
  '$sampleRate',
  '$geoWithin',
  '$geoIntersects',
  '$near',
  '$nearSphere',
  '$bitsAllSet',
  '$bitsAllClear',
  '$bitsAnySet',
  '$bitsAnyClear',
]);
/** Path segments that would reach an object's prototype instead of the envelope's data. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** `$options` flags, all of which RE2 has: case-insensitive, multi-line anchors, `.` matches newlines. */
const REGEX_FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };
/** At most this many errors are reported for one filter; the first ones are enough to fix it. */
const MAX_ERRORS = 20;

/** One thing wrong with a filter: where (a JSON pointer into the request body) and what. */
export interface SubscriptionFilterError {
  pointer: string;
  detail: string;
}

/** Thrown by `compileSubscriptionFilter` for a filter that `subscriptionFilterErrors` refuses. */
export class InvalidSubscriptionFilter extends Error {
  constructor(readonly errors: SubscriptionFilterError[]) {
    super(`invalid filter: ${errors.map((e) => `${e.pointer}: ${e.detail}`).join('; ')}`);
  }
}

/** Whether an envelope passes a subscription's filter. */
export type EnvelopeTest = (envelope: object) => boolean;

/**
 * `$regex` by RE2 (re2js) instead of the JavaScript engine sift would use: matching takes time
 * linear in the text whatever the pattern, so a pattern such as `(a+)+$` cannot hold a fan-out
 * for seconds (ReDoS). RE2 has no back-references or look-around; such patterns are refused.
 */
function compilePattern(pattern: string, flags: unknown): RE2JS {
  let mask = 0;
  for (const f of typeof flags === 'string' ? flags : '') mask |= REGEX_FLAGS[f] ?? 0;
  return RE2JS.compile(pattern, mask);
}

/** sift's options (its index does not re-export the type): the operations a query may use. */
type Options = Required<NonNullable<Parameters<typeof createQueryTester>[1]>>;
type OperationCreator = Options['operations'][string];

const $regex: OperationCreator = (pattern: string, ownerQuery: Record<string, unknown>, options: Options) => {
  const re = compilePattern(pattern, ownerQuery.$options);
  return createEqualsOperation((value: unknown) => typeof value === 'string' && re.test(value), ownerQuery, options);
};

/** sift's operations, only those allowed (its `$where` would run a string as code). */
const OPERATIONS: Record<string, OperationCreator> = {
  $and,
  $or,
  $nor,
  $not,
  $eq,
  $ne,
  $gt,
  $gte,
  $lt,
  $lte,
  $in,
  $nin,
  $all,
  $exists,
  $size,
  $regex,
  $options,
  $elemMatch,
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A key as a JSON pointer segment (RFC 6901). */
const segment = (key: string | number) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');
const quoteList = (ops: readonly string[]) => ops.join(', ');

/**
 * Everything wrong with a filter, each error with a JSON pointer under `base` (e.g.
 * `#/filter/model.priority/$inn`); empty when the filter may be stored. Refused: anything but
 * an object, operators outside `SUBSCRIPTION_FILTER_OPERATORS` (named: unknown, unsupported or
 * running code), an operator in a place it has no meaning, an argument of the wrong kind, a
 * pattern RE2 cannot compile, and a filter past `SUBSCRIPTION_FILTER_LIMITS`.
 */
export function subscriptionFilterErrors(filter: unknown, base = '#/filter'): SubscriptionFilterError[] {
  if (!isPlainObject(filter)) return [{ pointer: base, detail: 'filter must be an object of conditions on the event, or null' }];
  const bytes = Buffer.byteLength(JSON.stringify(filter));
  if (bytes > SUBSCRIPTION_FILTER_LIMITS.maxBytes) {
    return [{ pointer: base, detail: `filter is ${bytes} bytes of JSON; at most ${SUBSCRIPTION_FILTER_LIMITS.maxBytes} are allowed` }];
  }
  const deep = tooDeep(filter, base, 1);
  if (deep) return [{ pointer: deep, detail: `filter nests objects and arrays more than ${SUBSCRIPTION_FILTER_LIMITS.maxDepth} levels deep` }];
  const checker = new FilterChecker();
  checker.query(filter, base);
  if (checker.errors.length > 0) return checker.errors;
  try {
    createQueryTester(filter, { operations: OPERATIONS });
  } catch (err) {
    // A rule of sift's that the checks above do not mirror: still a 422, never a filter the dispatcher cannot run.
    return [{ pointer: base, detail: `filter is not a valid query: ${(err as Error).message}` }];
  }
  return [];
}

/**
 * The filter as a test of envelopes, built once per subscription version (the dispatcher caches
 * it) and run for each event. Throws `InvalidSubscriptionFilter` for a filter that
 * `subscriptionFilterErrors` refuses. An error while testing (none is expected of these
 * operators) counts as not matching: a filter never lets through what it was meant to keep out.
 */
export function compileSubscriptionFilter(filter: SubscriptionFilter): EnvelopeTest {
  const errors = subscriptionFilterErrors(filter);
  if (errors.length > 0) throw new InvalidSubscriptionFilter(errors);
  if (Object.keys(filter).length === 0) return () => true;
  const test = createQueryTester<object, SubscriptionFilter>(filter, { operations: OPERATIONS });
  return (envelope) => {
    try {
      return test(envelope);
    } catch {
      return false;
    }
  };
}

/** The pointer of the first object or array nested deeper than the limit, or null. */
function tooDeep(value: unknown, pointer: string, depth: number): string | null {
  if (typeof value !== 'object' || value === null) return null;
  if (depth > SUBSCRIPTION_FILTER_LIMITS.maxDepth) return pointer;
  for (const [key, child] of Object.entries(value)) {
    const found = tooDeep(child, `${pointer}/${segment(key)}`, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Walks a filter as MongoDB reads it: a query (fields and logical operators) whose fields hold
 * either an exact value or an object of operators on the value.
 */
class FilterChecker {
  readonly errors: SubscriptionFilterError[] = [];

  private error(pointer: string, detail: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ pointer, detail });
  }

  /** Conditions on a document: the envelope, an array element in `$elemMatch`, or one of `$and/$or/$nor`. */
  query(q: unknown, pointer: string): void {
    if (!isPlainObject(q)) {
      this.error(pointer, 'must be an object of conditions, e.g. {"model.state": "open"}');
      return;
    }
    for (const [key, value] of Object.entries(q)) {
      const at = `${pointer}/${segment(key)}`;
      if ((LOGICAL_OPERATORS as readonly string[]).includes(key)) this.logical(key, value, at);
      else if (key === '$not') this.query(value, at);
      else if (key.startsWith('$')) {
        if ((VALUE_OPERATORS as readonly string[]).includes(key)) {
          this.error(at, `${key} applies to a field's value: put it under a field, e.g. {"model.state": {"${key}": …}}`);
        } else this.refuse(key, at);
      } else if (this.fieldPath(key, at)) this.condition(value, at);
    }
  }

  private logical(op: string, value: unknown, pointer: string): void {
    if (!Array.isArray(value) || value.length === 0) {
      this.error(pointer, `${op} takes a non-empty list of conditions`);
      return;
    }
    value.forEach((q, i) => this.query(q, `${pointer}/${i}`));
  }

  /** A dotted path into the envelope, e.g. `model.priority` or `model.tags.0`. */
  private fieldPath(path: string, pointer: string): boolean {
    const parts = path.split('.');
    let problem: string | null = null;
    if (path.length > SUBSCRIPTION_FILTER_LIMITS.maxFieldPathLength) {
      problem = `a field path is at most ${SUBSCRIPTION_FILTER_LIMITS.maxFieldPathLength} characters`;
    } else if (parts.some((p) => p === '')) problem = `field path '${path}' has an empty part: names are separated by single dots`;
    else if (parts.some((p) => p.startsWith('$'))) problem = `field path '${path}' has a part starting with $, which only operators do`;
    else if (parts.some((p) => PROTOTYPE_KEYS.has(p)))
      problem = `field path '${path}' names ${parts.find((p) => PROTOTYPE_KEYS.has(p))}, which no envelope has`;
    if (problem) this.error(pointer, problem);
    return problem === null;
  }

  /** What a field must be: an exact value, or an object of operators on its value. */
  private condition(value: unknown, pointer: string): void {
    if (!isPlainObject(value) || !Object.keys(value).some((k) => k.startsWith('$'))) {
      this.exact(value, pointer);
      return;
    }
    const field = Object.keys(value).find((k) => !k.startsWith('$'));
    if (field !== undefined) {
      this.error(`${pointer}/${segment(field)}`, `'${field}' sits among operators: a condition is either operators or an exact value, not both`);
    }
    this.operators(value, pointer);
  }

  private operators(expr: Record<string, unknown>, pointer: string): void {
    for (const [op, arg] of Object.entries(expr)) {
      if (!op.startsWith('$')) continue; // reported by the caller
      const at = `${pointer}/${segment(op)}`;
      switch (op) {
        case '$eq':
        case '$ne':
          this.exact(arg, at);
          break;
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte':
          if (typeof arg !== 'number' && typeof arg !== 'string') this.error(at, `${op} takes a number or a string (times are ISO-8601 strings)`);
          break;
        case '$in':
        case '$nin':
        case '$all':
          if (!Array.isArray(arg)) this.error(at, `${op} takes a list of values`);
          else arg.forEach((v, i) => this.exact(v, `${at}/${i}`, op));
          break;
        case '$exists':
          if (typeof arg !== 'boolean') this.error(at, '$exists takes true or false');
          break;
        case '$size':
          if (!Number.isInteger(arg) || (arg as number) < 0) this.error(at, '$size takes a number of elements (a whole number, 0 or more)');
          break;
        case '$regex':
          this.pattern(arg, expr.$options, at);
          break;
        case '$options':
          if (!('$regex' in expr)) this.error(at, '$options goes with $regex');
          else if (typeof arg !== 'string' || !/^[ims]*$/.test(arg)) this.error(at, '$options takes the flags i, m and s');
          break;
        case '$elemMatch':
          this.elemMatch(arg, at);
          break;
        case '$not':
          if (!isPlainObject(arg) || Object.keys(arg).length === 0 || Object.keys(arg).some((k) => !k.startsWith('$'))) {
            this.error(at, '$not takes operators on the value, e.g. {"$not": {"$in": ["low"]}}');
          } else this.operators(arg, at);
          break;
        case '$and':
        case '$or':
        case '$nor':
          this.error(at, `${op} combines whole conditions: put it at the top (or inside $and, $or, $nor, $elemMatch) with a field path in each condition`);
          break;
        default:
          this.refuse(op, at);
      }
    }
  }

  /** Operators on each element (`{"$gte": 3}`) or conditions on each element's fields (`{"name": "vip"}`). */
  private elemMatch(arg: unknown, pointer: string): void {
    if (!isPlainObject(arg)) {
      this.error(pointer, '$elemMatch takes an object: operators on each element, or conditions on its fields');
      return;
    }
    const keys = Object.keys(arg);
    if (keys.length > 0 && keys.every((k) => (VALUE_OPERATORS as readonly string[]).includes(k))) this.operators(arg, pointer);
    else this.query(arg, pointer);
  }

  private pattern(pattern: unknown, flags: unknown, pointer: string): void {
    if (typeof pattern !== 'string') {
      this.error(pointer, '$regex takes a pattern as a string');
      return;
    }
    if (pattern.length > SUBSCRIPTION_FILTER_LIMITS.maxPatternLength) {
      this.error(pointer, `$regex patterns are at most ${SUBSCRIPTION_FILTER_LIMITS.maxPatternLength} characters`);
      return;
    }
    try {
      compilePattern(pattern, flags);
    } catch (err) {
      this.error(pointer, `$regex is not an RE2 pattern (no back-references or look-around): ${(err as Error).message}`);
    }
  }

  /** An exact value: any JSON, whose objects have no `$` keys (an operator there would be compared, not applied). */
  private exact(value: unknown, pointer: string, inside?: string): void {
    if (Array.isArray(value)) {
      value.forEach((v, i) => this.exact(v, `${pointer}/${i}`, inside));
      return;
    }
    if (!isPlainObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const at = `${pointer}/${segment(key)}`;
      if (key.startsWith('$')) {
        this.error(at, `${key} cannot be used ${inside ? `inside ${inside}, which lists exact values` : 'inside an exact value'}`);
      } else this.exact(child, at, inside);
    }
  }

  private refuse(op: string, pointer: string): void {
    const allowed = quoteList(SUBSCRIPTION_FILTER_OPERATORS);
    if (CODE_OPERATORS.has(op)) this.error(pointer, `${op} is not allowed: a filter cannot run code`);
    else if (UNSUPPORTED_OPERATORS.has(op)) this.error(pointer, `${op} is not supported; the operators are ${allowed}`);
    else this.error(pointer, `unknown operator ${op}; the operators are ${allowed}`);
  }
}
