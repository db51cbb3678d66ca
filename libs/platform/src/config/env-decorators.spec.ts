import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { EnvBoolean, EnvInteger, EnvOneOf, EnvString, envVariablesOf, parseEnvBoolean, parseEnvInteger, toDecimalInteger } from './env-decorators';
import { configModuleFor } from './config.module';
import { validateConfig } from './validate-config';

class Sample {
  @EnvBoolean()
  FLAG: boolean = false;

  @EnvInteger({ min: 0, max: 10 })
  COUNT: number = 3;

  @EnvString({ accepts: 'at least 4 characters', minLength: 4 })
  TOKEN: string;

  @EnvOneOf(['a', 'b'])
  MODE: string = 'a';
}

class Extended extends Sample {
  @EnvInteger({ min: 1, unit: 'ms' })
  EXTRA_MS: number = 1_000;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('parseEnvBoolean', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['1', true],
    ['yes', true],
    ['YES', true],
    ['on', true],
    ['On', true],
    ['false', false],
    ['FALSE', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['NO', false],
    ['off', false],
    ['oFF', false],
  ])('reads %j as %s', (raw, expected) => {
    expect(parseEnvBoolean(raw)).toBe(expected);
  });

  it.each(['', ' ', 'maybe', 'y', 'n', 't', 'f', '2', '-1', '01', ' true', 'false ', 'null', 'undefined', 'enabled'])('refuses %j', (raw) => {
    expect(parseEnvBoolean(raw)).toBeUndefined();
  });

  it('takes native booleans (test overrides) and refuses other types', () => {
    expect(parseEnvBoolean(true)).toBe(true);
    expect(parseEnvBoolean(false)).toBe(false);
    expect(parseEnvBoolean(1)).toBeUndefined();
    expect(parseEnvBoolean(undefined)).toBeUndefined();
  });
});

describe('parseEnvInteger', () => {
  it.each([
    ['0', 0],
    ['7', 7],
    ['007', 7],
    ['-5', -5],
    ['65535', 65_535],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('reads %j as %d', (raw, n) => {
    expect(parseEnvInteger(raw)).toBe(n);
  });

  it.each([
    '',
    ' ',
    '12abc',
    '1e3',
    '0x10',
    '0b1',
    '0o7',
    '1.5',
    '1.0',
    '+5',
    ' 5',
    '5 ',
    '1_000',
    '1,000',
    'Infinity',
    'NaN',
    '-',
    '9007199254740993',
    '99999999999999999',
  ])('refuses %j', (raw) => {
    expect(parseEnvInteger(raw)).toBeUndefined();
  });

  it('takes native safe integers (test overrides) only', () => {
    expect(parseEnvInteger(42)).toBe(42);
    expect(parseEnvInteger(1.5)).toBeUndefined();
    expect(parseEnvInteger(Number.NaN)).toBeUndefined();
    expect(parseEnvInteger(true)).toBeUndefined();
  });
});

describe('validateConfig with Env* decorators', () => {
  it('reads "false" and "0" as false: implicit conversion would have made both true', () => {
    expect(validateConfig(Sample, { FLAG: 'false', TOKEN: 'abcd' }).FLAG).toBe(false);
    expect(validateConfig(Sample, { FLAG: '0', TOKEN: 'abcd' }).FLAG).toBe(false);
    expect(validateConfig(Sample, { FLAG: 'off', TOKEN: 'abcd' }).FLAG).toBe(false);
    expect(validateConfig(Sample, { FLAG: 'Yes', TOKEN: 'abcd' }).FLAG).toBe(true);
  });

  it('parses from the raw value even where implicit conversion is switched on elsewhere', () => {
    const converted = plainToInstance(Sample, { FLAG: 'false', COUNT: '1e1' }, { enableImplicitConversion: true, exposeDefaultValues: true });
    expect(converted.FLAG).toBe(false);
    expect(converted.COUNT).toBe('1e1');
  });

  it('keeps the declared defaults when a variable is unset', () => {
    const config = validateConfig(Sample, { TOKEN: 'abcd' });
    expect(config).toMatchObject({ FLAG: false, COUNT: 3, MODE: 'a', TOKEN: 'abcd' });
  });

  it('refuses every bad variable at once, one line each, naming it and what it accepts', () => {
    const message = errorOf(() => validateConfig(Sample, { FLAG: 'maybe', COUNT: '12abc', MODE: 'A' }));
    const lines = message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1).sort()).toEqual([
      '  COUNT must be a decimal integer from 0 to 10, got "12abc"',
      '  FLAG must be one of true/false, 1/0, yes/no, on/off (any case), got "maybe"',
      '  MODE must be one of a, b, got "A"',
      '  TOKEN is required: at least 4 characters',
    ]);
  });

  it('refuses an empty value rather than guessing (VAR= is not the same as unset)', () => {
    const message = errorOf(() => validateConfig(Sample, { FLAG: '', COUNT: '', TOKEN: '' }));
    expect(message).toContain('  FLAG is empty: unset it to use the default, or set one of true/false');
    expect(message).toContain('  COUNT is empty: unset it to use the default, or set a decimal integer from 0 to 10');
    expect(message).toContain('  TOKEN is empty');
  });

  it('refuses integers out of range, with the unit in the message', () => {
    expect(errorOf(() => validateConfig(Sample, { TOKEN: 'abcd', COUNT: '-5' }))).toContain('COUNT must be a decimal integer from 0 to 10, got "-5"');
    expect(errorOf(() => validateConfig(Sample, { TOKEN: 'abcd', COUNT: '11' }))).toContain('COUNT must be a decimal integer from 0 to 10, got "11"');
    expect(errorOf(() => validateConfig(Extended, { TOKEN: 'abcd', EXTRA_MS: '0' }))).toContain(
      'EXTRA_MS must be a whole number of milliseconds of at least 1, got "0"',
    );
  });

  it('never echoes the value of a string variable, which may be a credential', () => {
    const message = errorOf(() => validateConfig(Sample, { TOKEN: 'abc' }));
    expect(message).toContain('TOKEN must be at least 4 characters');
    expect(message).not.toContain('"abc"');
  });

  it('refuses at start-up through the config module', async () => {
    await expect(configModuleFor(Sample, { TOKEN: 'abcd', FLAG: 'maybe' })).rejects.toThrow(/FLAG must be one of true\/false/);
  });
});

describe('envVariablesOf', () => {
  it('lists own and inherited variables with what they accept', () => {
    expect([...envVariablesOf(Extended).keys()].sort()).toEqual(['COUNT', 'EXTRA_MS', 'FLAG', 'MODE', 'TOKEN']);
    expect(envVariablesOf(Extended).get('EXTRA_MS')).toEqual({ kind: 'integer', min: 1, unit: 'ms' });
    expect([...envVariablesOf(Sample).keys()]).not.toContain('EXTRA_MS');
  });
});

describe('configModuleFor', () => {
  it('hands typed values to ConfigService and leaves process.env alone (no override leaks into the next app)', async () => {
    const { Test } = await import('@nestjs/testing');
    const { ConfigService } = await import('@nestjs/config');
    const before = { ...process.env };
    const moduleRef = await Test.createTestingModule({ imports: [await configModuleFor(Extended, { TOKEN: 'abcd', FLAG: 'false', COUNT: '7' })] }).compile();
    const config = moduleRef.get(ConfigService);
    expect([config.get('FLAG'), config.get('COUNT'), config.get('EXTRA_MS'), config.get('TOKEN')]).toEqual([false, 7, 1_000, 'abcd']);
    expect(process.env).toEqual(before);
    await moduleRef.close();
  });
});

describe('toDecimalInteger (query-string DTO fields)', () => {
  class Query {
    @Transform(toDecimalInteger)
    limit?: unknown;
  }

  it('turns decimal digits into a number and leaves every other spelling as given for @IsInt() to refuse', () => {
    const read = (limit: unknown) => plainToInstance(Query, { limit }).limit;
    expect(read('10')).toBe(10);
    for (const raw of ['1e1', '0x10', ' 5', '5.0', '', '12abc']) expect(read(raw)).toBe(raw);
    expect(read(['5'])).toEqual(['5']);
  });
});
