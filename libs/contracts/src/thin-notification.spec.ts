import { ENVELOPE_FIELDS, EventEnvelope, canonicalEnvelope, serializeEnvelope } from './envelope';
import { TOPICS, changeStatusFor, isDeletionType, parentResource, resourceLocator, toThinNotification } from './thin-notification';

const TENANT = '3b5cf468-c858-404b-9e53-630e3df9d74a';
const TICKET_ID = 'debde69a-2dbb-427b-b478-6cffd7930ecf';
const MESSAGE_ID = '39697476-cbc3-4154-bf43-165464f66197';
const SURVEY_ID = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b';
const RESPONSE_ID = 'c0f3b1a2-5d7e-4f60-9a1b-2c3d4e5f6a7b';

function envelope(overrides: Partial<EventEnvelope>): EventEnvelope {
  return {
    id: 'evt-1',
    account_id: TENANT,
    account_url: 'https://acme.example.com',
    created_at: '2016-10-17T19:52:43Z',
    type: 'ticket.created',
    data: {},
    actor_type: 'user',
    actor_id: 'a91bb75',
    actor_name: 'Michelle Han',
    model_type: 'ticket',
    model_id: TICKET_ID,
    model: { id: TICKET_ID, state: 'open' },
    ...overrides,
  };
}

describe('changeStatusFor', () => {
  const ev = (type: string, model_type: EventEnvelope['model_type'] = 'ticket') => ({ type, model_type });

  it.each([
    ['ticket.created', 'ticket'],
    ['ticket.updated', 'ticket'],
    ['ticket.status_changed', 'ticket'],
    ['message.created', 'message'],
    ['message.delivery_status', 'message'],
    ['survey.response_completed', 'survey_response'],
  ] as const)('the first event of a resource is a CREATION whatever its name: %s', (type, modelType) => {
    expect(changeStatusFor(ev(type, modelType), true)).toBe('CREATION');
  });

  it.each([
    ['ticket.created', 'ticket'],
    ['ticket.label_added', 'ticket'],
    ['message.created', 'message'],
    ['survey.response_completed', 'survey_response'],
  ] as const)('any later event is an UPDATE, even one named *.created: %s', (type, modelType) => {
    expect(changeStatusFor(ev(type, modelType), false)).toBe('UPDATE');
  });

  it('a deletion type is a DELETION, first or not', () => {
    expect(changeStatusFor(ev('ticket.deleted'), true)).toBe('DELETION');
    expect(changeStatusFor(ev('message.deleted', 'message'), false)).toBe('DELETION');
  });

  it("events about the hub's own subscriptions never create them (the admin API did)", () => {
    expect(changeStatusFor(ev('webhook.disabled', 'subscription'), true)).toBe('UPDATE');
    expect(changeStatusFor(ev('webhook.test', 'subscription'), true)).toBe('UPDATE');
  });

  it('only the last suffix marks a deletion', () => {
    expect(isDeletionType('ticket.deleted')).toBe(true);
    expect(isDeletionType('ticket.undeleted')).toBe(false);
    expect(isDeletionType('ticket.deleted_label')).toBe(false);
  });
});

describe('parentResource', () => {
  it("is a message's ticket, from the model or, for a deletion, from data", () => {
    expect(parentResource({ model_type: 'message', model: { id: 'm', ticket_id: 't1' }, data: {} })).toEqual({ modelType: 'ticket', modelId: 't1' });
    expect(parentResource({ model_type: 'message', model: null, data: { ticket_id: 't2' } })).toEqual({ modelType: 'ticket', modelId: 't2' });
  });

  it('is none for a message without a ticket and for every other type', () => {
    expect(parentResource({ model_type: 'message', model: null, data: { status: 'delivered' } })).toBeNull();
    expect(parentResource({ model_type: 'ticket', model: { id: 't', ticket_id: 'x' }, data: {} })).toBeNull();
    expect(parentResource({ model_type: 'survey_response', model: { id: 'r', survey_id: 's' }, data: {} })).toBeNull();
  });
});

describe('toThinNotification', () => {
  it('produces exactly the seed sample shape for a ticket creation', () => {
    const thin = toThinNotification(envelope({ type: 'ticket.created' }), 'CREATION');
    expect(JSON.stringify(thin)).toBe(
      JSON.stringify({
        data: { status: 'CREATION', params: { id: TICKET_ID }, resource: `/v0/tickets/${TICKET_ID}` },
        tenant_id: TENANT,
        topic: 'sac_ticket',
      }),
    );
    // Key order on the wire matches the sample: data, tenant_id, topic; status, params, resource.
    expect(Object.keys(thin)).toEqual(['data', 'tenant_id', 'topic']);
    expect(Object.keys(thin.data)).toEqual(['status', 'params', 'resource']);
  });

  it('maps ticket updates and deletions (deletion has no model)', () => {
    expect(toThinNotification(envelope({ type: 'ticket.status_changed', data: { from: 'open', to: 'hold' } }), 'UPDATE')).toEqual({
      data: { status: 'UPDATE', params: { id: TICKET_ID }, resource: `/v0/tickets/${TICKET_ID}` },
      tenant_id: TENANT,
      topic: 'sac_ticket',
    });
    expect(toThinNotification(envelope({ type: 'ticket.deleted', model: null }), 'DELETION')).toEqual({
      data: { status: 'DELETION', params: { id: TICKET_ID }, resource: `/v0/tickets/${TICKET_ID}` },
      tenant_id: TENANT,
      topic: 'sac_ticket',
    });
  });

  it('locates a message under its ticket', () => {
    const thin = toThinNotification(
      envelope({
        type: 'message.created',
        model_type: 'message',
        model_id: MESSAGE_ID,
        model: { id: MESSAGE_ID, ticket_id: TICKET_ID },
      }),
      'CREATION',
    );
    expect(JSON.stringify(thin)).toBe(
      JSON.stringify({
        data: {
          status: 'CREATION',
          params: { ticket_id: TICKET_ID, id: MESSAGE_ID },
          resource: `/v0/tickets/${TICKET_ID}/messages/${MESSAGE_ID}`,
        },
        tenant_id: TENANT,
        topic: 'sac_message',
      }),
    );
  });

  it('takes a deleted message’s ticket id from data when the model is null', () => {
    const thin = toThinNotification(
      envelope({ type: 'message.deleted', model_type: 'message', model_id: MESSAGE_ID, model: null, data: { ticket_id: TICKET_ID } }),
      'DELETION',
    );
    expect(thin).toEqual({
      data: {
        status: 'DELETION',
        params: { ticket_id: TICKET_ID, id: MESSAGE_ID },
        resource: `/v0/tickets/${TICKET_ID}/messages/${MESSAGE_ID}`,
      },
      tenant_id: TENANT,
      topic: 'sac_message',
    });
  });

  it('locates a message whose logged model was erased (its ticket was deleted) by its id alone, rather than failing its retries', () => {
    // As a retry reads a message.updated back from the log once the message's ticket was deleted.
    const erased = envelope({ type: 'message.updated', model_type: 'message', model_id: MESSAGE_ID, model: null, data: {} });
    expect(toThinNotification(erased, 'UPDATE')).toEqual({
      data: { status: 'UPDATE', params: { id: MESSAGE_ID }, resource: `/v0/messages/${MESSAGE_ID}` },
      tenant_id: TENANT,
      topic: 'sac_message',
    });
  });

  it('locates a survey response under its survey, with the status the event log recorded', () => {
    const thin = toThinNotification(
      envelope({
        type: 'survey.response_completed',
        model_type: 'survey_response',
        model_id: RESPONSE_ID,
        model: { id: RESPONSE_ID, survey_id: SURVEY_ID, score: 9 },
      }),
      'CREATION',
    );
    expect(JSON.stringify(thin)).toBe(
      JSON.stringify({
        data: {
          status: 'CREATION',
          params: { survey_id: SURVEY_ID, id: RESPONSE_ID },
          resource: `/v0/surveys/${SURVEY_ID}/responses/${RESPONSE_ID}`,
        },
        tenant_id: TENANT,
        topic: 'sac_survey_response',
      }),
    );
  });

  it('percent-encodes ids in the resource path but not in params', () => {
    const { params, resource } = resourceLocator(envelope({ model_type: 'message', model_id: 'a/b', model: { id: 'a/b', ticket_id: 't 1' } }));
    expect(params).toEqual({ ticket_id: 't 1', id: 'a/b' });
    expect(resource).toBe('/v0/tickets/t%201/messages/a%2Fb');
  });

  it('locates a delivery report about a message the hub does not know by the message id alone', () => {
    const unknown = envelope({ type: 'message.delivery_status', model_type: 'message', model_id: 'SM1', model: null, data: { status: 'delivered' } });
    expect(resourceLocator(unknown)).toEqual({ params: { id: 'SM1' }, resource: '/v0/messages/SM1' });
    const known = envelope({ type: 'message.delivery_status', model_type: 'message', model_id: 'm1', model: { id: 'm1', ticket_id: 't1' } });
    expect(resourceLocator(known).resource).toBe('/v0/tickets/t1/messages/m1');
  });

  it('has the sac_* topic of each domain model type', () => {
    expect(TOPICS).toMatchObject({ ticket: 'sac_ticket', message: 'sac_message', survey_response: 'sac_survey_response' });
  });
});

describe('serializeEnvelope', () => {
  const WIRE_ORDER = [
    'id',
    'account_id',
    'account_url',
    'created_at',
    'type',
    'data',
    'actor_type',
    'actor_id',
    'actor_name',
    'model_type',
    'model_id',
    'model',
  ];

  it('exports the wire field order', () => {
    expect([...ENVELOPE_FIELDS]).toEqual(WIRE_ORDER);
  });

  it('writes fields in wire order whatever order the input has', () => {
    const e = envelope({});
    const scrambled = Object.fromEntries(Object.entries(e).reverse()) as unknown as EventEnvelope;
    expect(Object.keys(scrambled)[0]).toBe('model');
    const json = serializeEnvelope(scrambled);
    expect(Object.keys(JSON.parse(json))).toEqual(WIRE_ORDER);
    expect(JSON.parse(json)).toEqual(e);
    expect(json).toBe(serializeEnvelope(e));
  });

  it('fills documented defaults for missing optional fields', () => {
    const minimal = {
      model: { id: TICKET_ID },
      model_id: TICKET_ID,
      model_type: 'ticket',
      data: { a: 1 },
      type: 'ticket.created',
      created_at: '2016-10-17T19:52:43Z',
      account_id: TENANT,
      id: 'evt-1',
    } as unknown as EventEnvelope;
    const json = serializeEnvelope(minimal);
    expect(json).toBe(
      `{"id":"evt-1","account_id":"${TENANT}","account_url":"","created_at":"2016-10-17T19:52:43Z","type":"ticket.created",` +
        `"data":{"a":1},"actor_type":null,"actor_id":null,"actor_name":null,"model_type":"ticket","model_id":"${TICKET_ID}",` +
        `"model":{"id":"${TICKET_ID}"}}`,
    );
  });

  it('defaults a missing model to null and drops unknown fields', () => {
    const withExtra = { ...envelope({ type: 'ticket.deleted' }), model: undefined, extra: 'x' } as unknown as EventEnvelope;
    const out = JSON.parse(serializeEnvelope(withExtra));
    expect(out.model).toBeNull();
    expect(out).not.toHaveProperty('extra');
    expect(Object.keys(out)).toEqual(WIRE_ORDER);
  });

  it('keeps explicit values (including empty strings and nulls) as given', () => {
    const e = envelope({ account_url: '', actor_type: null, actor_id: null, actor_name: null });
    expect(canonicalEnvelope(e)).toEqual(e);
  });
});
