import { Transform } from 'class-transformer';
import { ValidateBy, ValidationArguments } from 'class-validator';

/**
 * One decorator per configuration variable: it parses the raw environment
 * string strictly, validates the result and records what the variable
 * accepts, so every variable of every app parses the same way and the tests
 * can enumerate them (`envVariablesOf`).
 *
 * The parsers read the raw value from the source object rather than the value
 * class-transformer hands over: with `enableImplicitConversion` that value has
 * already been through `Boolean("false")` (true) or `Number("1e3")` (1000).
 */

/** The spellings a boolean variable accepts, compared case-insensitively; anything else is refused. */
export const ENV_TRUE_WORDS = ['true', '1', 'yes', 'on'] as const;
export const ENV_FALSE_WORDS = ['false', '0', 'no', 'off'] as const;

export type EnvSpec =
  | { kind: 'boolean' }
  | { kind: 'integer'; min?: number; max?: number; unit?: 'ms' }
  | {
      kind: 'string';
      accepts: string;
      pattern?: RegExp;
      minLength?: number;
      oneOf?: readonly string[];
      check?: (value: string) => boolean;
      optional?: boolean;
    };

export interface EnvIntegerOptions {
  min?: number;
  max?: number;
  /** 'ms' names the unit in the error message ("a whole number of milliseconds"). */
  unit?: 'ms';
}

export interface EnvStringOptions {
  /** How the error message describes what is accepted: "<NAME> must be <accepts>". */
  accepts: string;
  pattern?: RegExp;
  minLength?: number;
  /** A further check, e.g. that a regular expression compiles. */
  check?: (value: string) => boolean;
  /** Unset is fine (the variable has no default); set, it must still be valid and not empty. */
  optional?: boolean;
  /** Another variable that must be set whenever this one is (a password needs its user). */
  requires?: string;
  /** Other variables that must stay unset when this one is set (two ways to authenticate at once). */
  excludes?: readonly string[];
}

type ConfigClass = abstract new (...args: never[]) => object;

const specs = new Map<object, Map<string, EnvSpec>>();

function register(target: object, property: string, spec: EnvSpec): void {
  const own = specs.get(target.constructor) ?? new Map<string, EnvSpec>();
  own.set(property, spec);
  specs.set(target.constructor, own);
}

/** Every variable a configuration class declares with an `Env*` decorator, its own and inherited ones. */
export function envVariablesOf(cls: ConfigClass): Map<string, EnvSpec> {
  const chain: object[] = [];
  for (let c: object | null = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) chain.unshift(c);
  const all = new Map<string, EnvSpec>();
  for (const c of chain) for (const [name, spec] of specs.get(c) ?? []) all.set(name, spec);
  return all;
}

/** `true`, `false`, the words of ENV_TRUE/FALSE_WORDS in any case, or undefined when the value is none of them. */
export function parseEnvBoolean(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw !== 'string') return undefined;
  const word = raw.toLowerCase();
  if ((ENV_TRUE_WORDS as readonly string[]).includes(word)) return true;
  if ((ENV_FALSE_WORDS as readonly string[]).includes(word)) return false;
  return undefined;
}

/** A decimal integer (optional leading minus, digits only, safe range), or undefined: no `1e3`, `0x10`, `12abc`, `1.0`, blanks. */
export function parseEnvInteger(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw !== 'string' || !/^-?\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** What went wrong with a variable, without its value when the value could be a credential. */
function problem(args: ValidationArguments, accepts: string, echo: boolean): string {
  const raw = args.value;
  if (raw === undefined || raw === null) return `${args.property} is required: ${accepts}`;
  if (raw === '') return `${args.property} is empty: unset it to use the default, or set ${accepts}`;
  const shown = echo && (typeof raw === 'string' || typeof raw === 'number') ? `, got ${JSON.stringify(String(raw).slice(0, 40))}` : '';
  return `${args.property} must be ${accepts}${shown}`;
}

/** Parses the raw value; one that does not parse is left as given, so the validator refuses and reports it. */
function parsedOr<T>(parse: (raw: unknown) => T | undefined) {
  return Transform(
    ({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
      const raw = obj[key];
      const parsed = parse(raw);
      return parsed === undefined ? raw : parsed;
    },
    { toClassOnly: true },
  );
}

function combine(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, property) => {
    for (const d of decorators) d(target, property);
  };
}

const BOOLEAN_ACCEPTS = 'one of true/false, 1/0, yes/no, on/off (any case)';

/** A boolean variable: `true/false/1/0/yes/no/on/off` in any case; anything else stops the app at start-up. */
export function EnvBoolean(): PropertyDecorator {
  return (target, property) => {
    register(target, String(property), { kind: 'boolean' });
    combine(
      parsedOr(parseEnvBoolean),
      ValidateBy({
        name: 'envBoolean',
        validator: {
          validate: (value: unknown) => typeof value === 'boolean',
          defaultMessage: (args?: ValidationArguments) => (args ? problem(args, BOOLEAN_ACCEPTS, true) : BOOLEAN_ACCEPTS),
        },
      }),
    )(target, property);
  };
}

function integerAccepts({ min, max, unit }: EnvIntegerOptions): string {
  const what = unit === 'ms' ? 'a whole number of milliseconds' : 'a decimal integer';
  if (min !== undefined && max !== undefined) return `${what} from ${min} to ${max}`;
  if (min !== undefined) return `${what} of at least ${min}`;
  if (max !== undefined) return `${what} of at most ${max}`;
  return what;
}

/** An integer variable: decimal digits only (optional `-`), within [min, max]. */
export function EnvInteger(options: EnvIntegerOptions = {}): PropertyDecorator {
  const accepts = integerAccepts(options);
  const { min, max } = options;
  return (target, property) => {
    register(target, String(property), { kind: 'integer', ...options });
    combine(
      parsedOr(parseEnvInteger),
      ValidateBy({
        name: 'envInteger',
        validator: {
          validate: (value: unknown) =>
            typeof value === 'number' && Number.isSafeInteger(value) && (min === undefined || value >= min) && (max === undefined || value <= max),
          defaultMessage: (args?: ValidationArguments) => (args ? problem(args, accepts, true) : accepts),
        },
      }),
    )(target, property);
  };
}

/**
 * A string variable, taken as given (no trimming). Its value is never echoed in
 * the error message: string variables include credentials and connection URLs.
 */
export function EnvString(options: EnvStringOptions): PropertyDecorator {
  const { accepts, pattern, minLength, check, optional, requires, excludes = [] } = options;
  const valid = (value: unknown): boolean =>
    typeof value === 'string' &&
    value !== '' &&
    (pattern === undefined || pattern.test(value)) &&
    (minLength === undefined || value.length >= minLength) &&
    (check === undefined || check(value));
  const isSet = (source: object, name: string): boolean => (source as Record<string, unknown>)[name] !== undefined;
  return (target, property) => {
    register(target, String(property), { kind: 'string', accepts, pattern, minLength, check, optional });
    ValidateBy({
      name: 'envString',
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => {
          if (value === undefined && optional) return true;
          if (!valid(value)) return false;
          if (!args) return true;
          return (requires === undefined || isSet(args.object, requires)) && !excludes.some((other) => isSet(args.object, other));
        },
        defaultMessage: (args?: ValidationArguments) => {
          if (!args) return accepts;
          if (!valid(args.value)) return problem(args, accepts, false);
          const problems: string[] = [];
          if (requires !== undefined && !isSet(args.object, requires)) problems.push(`${args.property} is set but ${requires} is not: set both, or neither`);
          const clash = excludes.filter((other) => isSet(args.object, other));
          if (clash.length > 0) problems.push(`${args.property} and ${clash.join(', ')} are both set: set only one of them`);
          return problems.join('; ');
        },
      },
    })(target, property);
  };
}

/** A variable that takes one of a fixed list of words (exact spelling). */
export function EnvOneOf(values: readonly string[]): PropertyDecorator {
  const accepts = `one of ${values.join(', ')}`;
  return (target, property) => {
    register(target, String(property), { kind: 'string', accepts, oneOf: values });
    ValidateBy({
      name: 'envOneOf',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && values.includes(value),
        defaultMessage: (args?: ValidationArguments) => (args ? problem(args, accepts, true) : accepts),
      },
    })(target, property);
  };
}

/**
 * `@Transform(toDecimalInteger)` for query-string DTO fields: a decimal integer
 * string becomes a number; anything else (`1e1`, `0x10`, ` 5`, `5.0`, a
 * repeated parameter) stays as given, so `@IsInt()` refuses it where
 * `@Type(() => Number)` would have read `Number(value)`.
 */
export const toDecimalInteger = ({ obj, key, value }: { obj?: Record<string, unknown>; key?: string; value: unknown }): unknown => {
  const raw = obj && key !== undefined ? obj[key] : value;
  return parseEnvInteger(raw) ?? raw;
};
