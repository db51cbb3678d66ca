/** JSON Schemas of the resource snapshots, as the REST API returns them. Extra fields are allowed. */
type JsonSchema = Record<string, unknown>;

const id = { type: 'string', minLength: 1, maxLength: 128 };
const timestamp = { type: 'string', format: 'date-time' };
const nullableString = { type: ['string', 'null'] };

export const TICKET_MODEL: JsonSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id,
    number: { type: 'integer' },
    user_id: nullableString,
    state: { type: 'string', enum: ['open', 'hold', 'closed', 'snoozed', 'archived'] },
    subject: nullableString,
    label_ids: { type: 'array', items: { type: 'string' } },
    customer_id: nullableString,
    type: { type: 'string' },
    reply_to: nullableString,
    created_at: timestamp,
    updated_at: timestamp,
  },
  additionalProperties: true,
};

export const MESSAGE_MODEL: JsonSchema = {
  type: 'object',
  required: ['id', 'ticket_id'],
  properties: {
    id,
    ticket_id: id,
    direction: { type: 'string', enum: ['inbound', 'outbound', 'note'] },
    channel: { type: 'string' },
    from: nullableString,
    to: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }] },
    subject: nullableString,
    body: nullableString,
    created_at: timestamp,
  },
  additionalProperties: true,
};

export const SURVEY_RESPONSE_MODEL: JsonSchema = {
  type: 'object',
  required: ['id', 'survey_id'],
  properties: {
    id,
    survey_id: id,
    ticket_id: nullableString,
    customer_id: nullableString,
    score: { type: ['number', 'null'] },
    answers: { type: 'array', items: { type: 'object' } },
    completed_at: timestamp,
  },
  additionalProperties: true,
};

export const SUBSCRIPTION_MODEL: JsonSchema = {
  type: 'object',
  required: ['id', 'url', 'state'],
  properties: {
    id,
    url: { type: 'string' },
    state: { type: 'string', enum: ['pending_verification', 'active', 'disabled'] },
    state_reason: nullableString,
    event_types: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: true,
};
