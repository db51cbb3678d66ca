import { EventEnvelope, schemaVersionOf } from '../envelope';
import { EventCatalogue, SchemaCompiler } from './event-catalogue';
import { EVENT_TYPES, EVENT_TYPE_DEFINITIONS, EventTypeDefinition, eventTypeDefinition, latestVersion } from './event-types';

type Candidate = Record<string, unknown>;

function exampleOf(type: string): Candidate {
  const def = eventTypeDefinition(type);
  if (!def) throw new Error(`no catalogue entry for ${type}`);
  return structuredClone(latestVersion(def).example) as unknown as Candidate;
}

describe('EventCatalogue.validate (built-in types)', () => {
  const validator = new EventCatalogue();

  it('has one catalogue entry per type', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPE_DEFINITIONS.length);
    expect(EVENT_TYPES.length).toBeGreaterThan(0);
  });

  it.each(EVENT_TYPE_DEFINITIONS.map((d) => [d.type, d] as const))('accepts the catalogue example of %s', (_type, def) => {
    const result = validator.validate(structuredClone(latestVersion(def).example));
    expect(result).toEqual({ ok: true, event: latestVersion(def).example, definition: def, version: latestVersion(def) });
    if (result.ok) expect(schemaVersionOf(result.event)).toBe(1);
  });

  it('rejects an unknown event type', () => {
    const result = validator.validate({ ...exampleOf('ticket.created'), type: 'ticket.exploded' });
    expect(result).toEqual({ ok: false, reason: 'unknown-type', errors: [{ pointer: '#/type', detail: "unknown event type 'ticket.exploded'" }] });
  });

  it.each([[undefined], [42], [null]])('rejects a missing or non-string type (%p)', (type) => {
    const candidate = exampleOf('ticket.created');
    if (type === undefined) delete candidate.type;
    else candidate.type = type;
    expect(validator.validate(candidate)).toEqual({ ok: false, reason: 'invalid', errors: [{ pointer: '#/type', detail: 'is required' }] });
  });

  it.each([[null], [undefined], ['a string'], [[]]])('rejects a non-object candidate (%p)', (candidate) => {
    expect(validator.validate(candidate).ok).toBe(false);
  });

  it('rejects an event without model_id', () => {
    const candidate = exampleOf('ticket.created');
    delete candidate.model_id;
    const result = validator.validate(candidate);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.some((e) => e.detail.includes('model_id'))).toBe(true);
  });

  it('rejects an empty model_id', () => {
    const candidate = { ...exampleOf('ticket.created'), model_id: '' };
    expect(validator.validate(candidate).ok).toBe(false);
  });

  it('rejects a model whose id differs from model_id', () => {
    const candidate = exampleOf('ticket.updated');
    (candidate.model as Candidate).id = 'some-other-ticket';
    expect(validator.validate(candidate)).toEqual({ ok: false, reason: 'invalid', errors: [{ pointer: '#/model/id', detail: 'must equal model_id' }] });
  });

  it('rejects an unknown top-level field', () => {
    const result = validator.validate({ ...exampleOf('ticket.created'), priority: 'high' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual({ pointer: '#', detail: "unknown field 'priority'" });
  });

  it.each(EVENT_TYPE_DEFINITIONS.filter((d) => !d.type.endsWith('.deleted') && !latestVersion(d).modelNullable).map((d) => [d.type]))(
    'rejects a null model on the non-deletion event %s',
    (type) => {
      const result = validator.validate({ ...exampleOf(type), model: null });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.some((e) => e.pointer === '#/model')).toBe(true);
    },
  );

  it('accepts a null model where the hub may not know the resource (delivery reports)', () => {
    expect(validator.validate({ ...exampleOf('message.delivery_status'), model: null }).ok).toBe(true);
  });

  it('rejects a missing model even on a deletion', () => {
    const candidate = exampleOf('ticket.deleted');
    delete candidate.model;
    expect(validator.validate(candidate).ok).toBe(false);
  });

  it('accepts a null model on ticket.deleted', () => {
    const candidate = exampleOf('ticket.deleted');
    expect(candidate.model).toBeNull();
    expect(validator.validate(candidate).ok).toBe(true);
  });

  it('accepts a full model on ticket.deleted as long as its id matches', () => {
    const candidate = { ...exampleOf('ticket.deleted'), model: { ...(exampleOf('ticket.created').model as Candidate) } };
    expect(validator.validate(candidate).ok).toBe(true);
    (candidate.model as Candidate).id = 'other';
    expect(validator.validate(candidate).ok).toBe(false);
  });

  it.each([['yesterday'], ['2016-13-45T19:52:43Z'], ['2016-10-17T25:00:00Z'], ['2016-10-17T19:52:43'], [''], [1476733963]])(
    'rejects a bad created_at (%p)',
    (createdAt) => {
      const result = validator.validate({ ...exampleOf('ticket.created'), created_at: createdAt });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.some((e) => e.pointer === '#/created_at')).toBe(true);
    },
  );

  it('accepts created_at with an offset and fractional seconds', () => {
    expect(validator.validate({ ...exampleOf('ticket.created'), created_at: '2016-10-17T21:52:43.123+02:00' }).ok).toBe(true);
  });

  it('rejects a model_type that does not belong to the event type, naming the one expected', () => {
    expect(validator.validate({ ...exampleOf('ticket.created'), model_type: 'message' })).toEqual({
      ok: false,
      reason: 'invalid',
      errors: [{ pointer: '#/model_type', detail: 'must be "ticket"' }],
    });
  });

  it('gives one message per field: each missing field, and a broken nullable model only by what the model lacks', () => {
    const candidate = exampleOf('message.delivery_status');
    delete candidate.model_id;
    delete candidate.created_at;
    candidate.model = { ticket_id: 'x' };
    const result = validator.validate(candidate);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toEqual(
        expect.arrayContaining([
          { pointer: '#/model_id', detail: 'model_id is required' },
          { pointer: '#/created_at', detail: 'created_at is required' },
          { pointer: '#/model/id', detail: 'id is required' },
        ]),
      );
      expect(result.errors.filter((e) => e.pointer === '#/model')).toHaveLength(0);
      expect(result.errors.map((e) => e.detail)).not.toContain('must be null');
    }
  });

  it('rejects data that breaks the event type’s data schema', () => {
    const candidate = exampleOf('ticket.status_changed');
    candidate.data = { from: 'open' };
    expect(validator.validate(candidate).ok).toBe(false);
    const status = exampleOf('message.delivery_status');
    (status.data as Candidate).status = 'teleported';
    expect(validator.validate(status).ok).toBe(false);
  });

  it('treats optional envelope fields as optional', () => {
    const candidate = exampleOf('ticket.created');
    delete candidate.account_url;
    delete candidate.actor_type;
    delete candidate.actor_id;
    delete candidate.actor_name;
    expect(validator.validate(candidate).ok).toBe(true);
  });
});

describe('EventCatalogue with types defined through the API', () => {
  const TENANT = '11111111-1111-4111-8111-111111111111';
  const OTHER = '22222222-2222-4222-8222-222222222222';
  const orderModel = (status: object) => ({ type: 'object', required: ['id', 'status'], properties: { id: { type: 'string' }, status } });
  const orderEvent = (model: Record<string, unknown>, account = TENANT): Candidate => ({
    id: 'evt-1',
    account_id: account,
    created_at: '2026-01-01T00:00:00Z',
    type: 'order.created',
    data: {},
    model_type: 'order',
    model_id: 'ord_1',
    model: { id: 'ord_1', ...model },
  });
  const example = orderEvent({ status: 'paid' }) as unknown as EventEnvelope;
  const order: EventTypeDefinition = {
    key: 'defined:order',
    type: 'order.created',
    description: 'An order was placed.',
    scope: 'tenant',
    tenantId: TENANT,
    modelType: 'order',
    resourcePath: '/v0/shop/orders/{id}',
    topic: 'shop_order',
    deprecated: false,
    versions: [
      { version: 1, dataSchema: { type: 'object' }, modelSchema: orderModel({ enum: ['paid', 'open'] }), example, deprecated: true },
      { version: 2, dataSchema: { type: 'object' }, modelSchema: orderModel({ type: 'object' }), example, deprecated: false },
    ],
  };
  const platform: EventTypeDefinition = { ...order, key: 'defined:invoice', type: 'invoice.paid', scope: 'platform', tenantId: null, modelType: 'invoice' };
  const catalogue = new EventCatalogue([order, platform]);

  it("shows a tenant's type to that tenant only, and a platform type to everyone, next to the built-in ones", () => {
    expect(catalogue.find(TENANT, 'order.created')).toBe(order);
    expect(catalogue.find(OTHER, 'order.created')).toBeUndefined();
    expect(catalogue.find(null, 'order.created')).toBeUndefined();
    expect(catalogue.find(OTHER, 'invoice.paid')).toBe(platform);
    expect(catalogue.visibleTo(TENANT).map((d) => d.type)).toEqual(expect.arrayContaining(['order.created', 'invoice.paid', 'ticket.created']));
    expect(catalogue.visibleTo(OTHER).map((d) => d.type)).not.toContain('order.created');
  });

  it('knows the groups and types a tenant sees in patterns', () => {
    expect(catalogue.isKnownPattern(TENANT, 'order.*')).toBe(true);
    expect(catalogue.isKnownPattern(TENANT, 'order.created')).toBe(true);
    expect(catalogue.isKnownPattern(OTHER, 'order.*')).toBe(false);
    expect(catalogue.isKnownPattern(OTHER, 'invoice.*')).toBe(true);
  });

  it('validates against the latest version unless the event names one, and tags the event with it', () => {
    const latest = catalogue.validate(orderEvent({ status: { any: 'object' } }));
    expect(latest.ok).toBe(true);
    if (latest.ok) expect([latest.version.version, schemaVersionOf(latest.event)]).toEqual([2, 2]);

    const old = catalogue.validate(orderEvent({ status: 'paid' }), 1);
    expect(old.ok).toBe(true);
    if (old.ok) expect(schemaVersionOf(old.event)).toBe(1);

    expect(catalogue.validate(orderEvent({ status: { any: 'object' } }), 1)).toMatchObject({
      ok: false,
      reason: 'invalid',
      errors: [{ pointer: '#/model/status' }],
    });
  });

  it('refuses a version the type does not have, and a type of another tenant', () => {
    expect(catalogue.validate(orderEvent({ status: 'paid' }), 3)).toEqual({
      ok: false,
      reason: 'unknown-version',
      errors: [{ pointer: '#/schema_version', detail: "event type 'order.created' has no schema version 3 (it has 1, 2)" }],
    });
    expect(catalogue.validate(orderEvent({ status: 'paid' }, OTHER))).toMatchObject({ ok: false, reason: 'unknown-type' });
  });

  it('locates a defined resource at its resource path, with its topic', () => {
    expect(catalogue.locate({ ...example, model_id: 'a/b c' })).toEqual({
      params: { id: 'a/b c' },
      resource: '/v0/shop/orders/a%2Fb%20c',
      topic: 'shop_order',
    });
  });

  it('keeps compiled schemas across snapshots of the catalogue', () => {
    const compiler = new SchemaCompiler();
    const first = new EventCatalogue([order], compiler);
    first.validate(orderEvent({ status: 'paid' }));
    const compile = jest.spyOn((compiler as unknown as { defined: { compile: () => unknown } }).defined, 'compile');
    first.with([order]).validate(orderEvent({ status: 'paid' }));
    expect(compile).not.toHaveBeenCalled();
    first.validate(orderEvent({ status: 'paid' }), 1);
    expect(compile).toHaveBeenCalledTimes(1); // a version not validated before is compiled once
  });
});

describe('SchemaCompiler.problemsOf', () => {
  it('accepts a JSON Schema that compiles', () => {
    expect(SchemaCompiler.problemsOf({ type: 'object', properties: { a: { type: 'string' } } }, '#/model_schema')).toEqual([]);
  });

  it('names what is wrong with one that is not a JSON Schema, where it is', () => {
    expect(SchemaCompiler.problemsOf({ type: 'object', properties: { a: { type: 'strin' } } }, '#/model_schema')).toContainEqual(
      expect.objectContaining({ pointer: '#/model_schema/properties/a/type' }),
    );
  });

  it('refuses a pattern RE2 cannot run, and matches defined patterns in linear time', () => {
    expect(SchemaCompiler.problemsOf({ type: 'string', pattern: '^(?=a)a$' }, '#/model_schema')).toEqual([
      { pointer: '#/model_schema', detail: expect.stringMatching(/invalid|perl|lookahead|\(\?=/i) },
    ]);
    const evil: EventTypeDefinition = {
      ...EVENT_TYPE_DEFINITIONS[0],
      key: 'defined:evil',
      type: 'evil.created',
      scope: 'platform',
      modelType: 'evil',
      versions: [
        {
          version: 1,
          dataSchema: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } },
          modelSchema: { type: 'object' },
          example: {} as EventEnvelope,
          deprecated: false,
        },
      ],
    };
    const started = Date.now();
    const result = new EventCatalogue([evil]).validate({
      id: 'e1',
      account_id: 'a',
      created_at: '2026-01-01T00:00:00Z',
      type: 'evil.created',
      data: { s: `${'a'.repeat(5_000)}!` },
      model_type: 'evil',
      model_id: 'm',
      model: { id: 'm' },
    });
    expect(result).toMatchObject({ ok: false, errors: [{ pointer: '#/data/s' }] });
    expect(Date.now() - started).toBeLessThan(1_000); // a backtracking engine takes longer than the universe's age here
  });

  it('names a $schema other than 2020-12 instead of throwing', () => {
    for (const $schema of ['http://json-schema.org/draft-07/schema#', 'https://example.com/my-meta-schema']) {
      expect(SchemaCompiler.problemsOf({ $schema, type: 'object' }, '#/model_schema')).toEqual([
        { pointer: '#/model_schema/$schema', detail: expect.stringContaining($schema) },
      ]);
    }
  });

  it('names a reference that cannot be resolved', () => {
    expect(SchemaCompiler.problemsOf({ $ref: '#/$defs/missing' }, '#/model_schema')).toEqual([
      { pointer: '#/model_schema', detail: expect.stringContaining('missing') },
    ]);
  });
});
