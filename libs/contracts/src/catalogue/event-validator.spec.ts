import { EVENT_TYPES, EVENT_TYPE_DEFINITIONS, eventTypeDefinition } from './event-types';
import { EventValidator } from './event-validator';

type Candidate = Record<string, unknown>;

function exampleOf(type: string): Candidate {
  const def = eventTypeDefinition(type);
  if (!def) throw new Error(`no catalogue entry for ${type}`);
  return structuredClone(def.example) as unknown as Candidate;
}

describe('EventValidator', () => {
  const validator = new EventValidator();

  it('has one catalogue entry per type', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPE_DEFINITIONS.length);
    expect(EVENT_TYPES.length).toBeGreaterThan(0);
  });

  it.each(EVENT_TYPE_DEFINITIONS.map((d) => [d.type, d] as const))('accepts the catalogue example of %s', (_type, def) => {
    const result = validator.validate(structuredClone(def.example));
    expect(result).toEqual({ ok: true, event: def.example });
  });

  it('rejects an unknown event type', () => {
    const result = validator.validate({ ...exampleOf('ticket.created'), type: 'ticket.exploded' });
    expect(result).toEqual({ ok: false, errors: [{ pointer: '#/type', detail: "unknown event type 'ticket.exploded'" }] });
  });

  it.each([[undefined], [42], [null]])('rejects a missing or non-string type (%p)', (type) => {
    const candidate = exampleOf('ticket.created');
    if (type === undefined) delete candidate.type;
    else candidate.type = type;
    expect(validator.validate(candidate)).toEqual({ ok: false, errors: [{ pointer: '#/type', detail: 'is required' }] });
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
    expect(validator.validate(candidate)).toEqual({ ok: false, errors: [{ pointer: '#/model/id', detail: 'must equal model_id' }] });
  });

  it('rejects an unknown top-level field', () => {
    const result = validator.validate({ ...exampleOf('ticket.created'), priority: 'high' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual({ pointer: '#', detail: "unknown field 'priority'" });
  });

  it.each(EVENT_TYPE_DEFINITIONS.filter((d) => !d.type.endsWith('.deleted') && !d.modelNullable).map((d) => [d.type]))(
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
