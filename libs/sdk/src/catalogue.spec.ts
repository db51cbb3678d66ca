import { EventTypeCatalogue, type CatalogueEventType } from './catalogue';
import { HookhubValidationError } from './errors';

/** A full-envelope schema whose model needs `fields` (as the hub's catalogue serves them, much shortened). */
const schema = (type: string, fields: string[]): Record<string, unknown> => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['id', 'type', 'created_at', 'model'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    type: { const: type },
    created_at: { type: 'string', format: 'date-time' },
    model: { type: 'object', required: fields, properties: Object.fromEntries(fields.map((f) => [f, { type: 'string' }])) },
  },
});
const event = (model: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'e1',
  type: 'ticket.created',
  created_at: '2024-05-01T10:00:00Z',
  model,
  ...extra,
});

const unversioned: CatalogueEventType = { type: 'ticket.created', model_type: 'ticket', schema: schema('ticket.created', ['id']) };
const versioned: CatalogueEventType = {
  type: 'ticket.created',
  model_type: 'ticket',
  schema: schema('ticket.created', ['id', 'subject']),
  latest_version: 2,
  versions: [
    { version: 1, schema: schema('ticket.created', ['id']), deprecated: true },
    { version: 2, schema: schema('ticket.created', ['id', 'subject']), deprecated: false },
  ],
};

async function thrown(promise: Promise<unknown>): Promise<HookhubValidationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookhubValidationError);
  return err as HookhubValidationError;
}

describe('EventTypeCatalogue', () => {
  it('takes a catalogue without versions as version 1 of its schema', async () => {
    const catalogue = new EventTypeCatalogue(async () => [unversioned]);
    const resolved = await catalogue.resolve('ticket.created');
    expect(resolved).toMatchObject({ type: 'ticket.created', modelType: 'ticket', version: 1, deprecated: false });
    expect(resolved.validate(event({ id: 't' }))).toEqual([]);
    expect((await catalogue.resolve('ticket.created', 1)).version).toBe(1);
    expect((await thrown(catalogue.resolve('ticket.created', 2))).errors).toEqual([{ pointer: '#/schema_version', detail: 'must be one of: 1' }]);
  });

  it('validates against the latest version by default, or the one asked for, and says which are deprecated', async () => {
    const catalogue = new EventTypeCatalogue(async () => [versioned]);
    const latest = await catalogue.resolve('ticket.created');
    expect(latest).toMatchObject({ version: 2, deprecated: false });
    expect(latest.validate(event({ id: 't' }))).toEqual([{ pointer: '#/model/subject', detail: 'subject is required' }]);
    const first = await catalogue.resolve('ticket.created', 1);
    expect(first).toMatchObject({ version: 1, deprecated: true });
    expect(first.validate(event({ id: 't' }))).toEqual([]);
    const retired = new EventTypeCatalogue(async () => [{ ...versioned, deprecated: true }]);
    expect(await retired.resolve('ticket.created')).toMatchObject({ version: 2, deprecated: true });
  });

  it('reports each invalid field as a JSON pointer, formats included', async () => {
    const { validate } = await new EventTypeCatalogue(async () => [unversioned]).resolve('ticket.created');
    expect(validate(event({ id: 't' }, { created_at: 'yesterday', colour: 'red', type: 'ticket.updated' }))).toEqual(
      expect.arrayContaining([
        { pointer: '#', detail: "unknown field 'colour'" },
        { pointer: '#/created_at', detail: 'must match format "date-time"' },
        { pointer: '#/type', detail: 'must be "ticket.created"' },
      ]),
    );
  });

  it('fetches once for concurrent callers, keeps the catalogue for its ttl, and fetches again for an unknown type', async () => {
    let fetches = 0;
    let items: CatalogueEventType[] = [unversioned];
    const catalogue = new EventTypeCatalogue(
      async () => {
        fetches++;
        await new Promise((r) => setTimeout(r, 10));
        return items;
      },
      { ttlMs: 60_000, refreshOnMissMs: 0 },
    );
    await Promise.all([catalogue.resolve('ticket.created'), catalogue.resolve('ticket.created'), catalogue.resolve('ticket.created')]);
    expect(fetches).toBe(1);
    items = [unversioned, { ...unversioned, type: 'ticket.updated', schema: schema('ticket.updated', ['id']) }];
    expect((await catalogue.resolve('ticket.updated')).type).toBe('ticket.updated');
    expect(fetches).toBe(2);
    const unknown = await thrown(catalogue.resolve('ticket.exploded'));
    expect(unknown.errors).toEqual([{ pointer: '#/type', detail: 'is not in the catalogue' }]);
    expect(fetches).toBe(3);
  });

  it('does not fetch again for an unknown type within refreshOnMissMs', async () => {
    let fetches = 0;
    const catalogue = new EventTypeCatalogue(
      async () => {
        fetches++;
        return [unversioned];
      },
      { refreshOnMissMs: 60_000 },
    );
    await thrown(catalogue.resolve('ticket.exploded'));
    await thrown(catalogue.resolve('ticket.exploded'));
    expect(fetches).toBe(1);
  });
});
