import type { EventEnvelope, ModelType } from '../envelope';
import { MESSAGE_MODEL, SUBSCRIPTION_MODEL, SURVEY_RESPONSE_MODEL, TICKET_MODEL } from './models';

export type JsonSchema = Record<string, unknown>;

/** One schema version of an event type. Versions never change once created: a new schema is a new version. */
export interface EventTypeVersion {
  version: number;
  /** Schema of the event's `data`. */
  dataSchema: JsonSchema;
  /** Schema of the event's `model`; `null` models are allowed for deletions and where `modelNullable`. */
  modelSchema: JsonSchema;
  /** The hub may not know the resource (a provider reports on a message sent outside the hub). */
  modelNullable?: boolean;
  /** A whole event of this version, as a full-format subscription receives it. */
  example: EventEnvelope;
  deprecated: boolean;
  createdAt?: string;
}

/** Who defined an event type: the hub itself, the platform's operator for every tenant, or one tenant for itself. */
export type EventTypeScope = 'builtin' | 'platform' | 'tenant';

/**
 * An event type, built-in or defined through the API: the same shape either
 * way, so validation, listing, matching and thin notifications treat them alike.
 */
export interface EventTypeDefinition {
  /** Stable key of the definition (compiled schemas are cached under it). */
  key: string;
  type: string;
  description: string;
  scope: EventTypeScope;
  /** The tenant of a `tenant` type; null otherwise. */
  tenantId: string | null;
  modelType: string;
  /** Where thin-notification receivers fetch the resource, `{id}` standing for the model id (e.g. `/v0/orders/{id}`). */
  resourcePath: string;
  /** The thin notification's `topic`. */
  topic: string;
  deprecated: boolean;
  /** Ascending; the last is the latest, which an event without a schema version gets. */
  versions: readonly EventTypeVersion[];
}

const empty: JsonSchema = { type: 'object', additionalProperties: true };
const ACCOUNT = '3b5cf468-c858-404b-9e53-630e3df9d74a';
const TICKET_ID = 'debde69a-2dbb-427b-b478-6cffd7930ecf';
const MESSAGE_ID = '39697476-cbc3-4154-bf43-165464f66197';

const exampleTicket = {
  id: TICKET_ID,
  number: 53249,
  user_id: 'a91bb75',
  state: 'open',
  subject: 'email from customer',
  label_ids: ['97b0a40'],
  customer_id: '97b0a43',
  type: 'email',
  reply_to: '',
  created_at: '2016-10-14T20:15:46Z',
};
const exampleMessage = {
  id: MESSAGE_ID,
  ticket_id: TICKET_ID,
  direction: 'inbound',
  channel: 'email',
  from: 'customer@example.com',
  subject: 'Re: email from customer',
  body: 'Thanks, that fixed it.',
  created_at: '2016-10-17T19:52:43Z',
};
const exampleResponse = {
  id: 'c0f3b1a2-5d7e-4f60-9a1b-2c3d4e5f6a7b',
  survey_id: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b',
  ticket_id: TICKET_ID,
  customer_id: '97b0a43',
  score: 9,
  answers: [{ question: 'How likely are you to recommend us?', answer: 9 }],
  completed_at: '2016-10-17T19:52:43Z',
};

/** The example event of a type, built-in or defined: the same account, time and actor for every type. */
export function exampleEnvelope(
  type: string,
  modelType: string,
  model: Record<string, unknown> | null,
  data: Record<string, unknown>,
  modelId: string,
): EventEnvelope {
  return {
    id: '7f94629',
    account_id: ACCOUNT,
    account_url: 'https://acme.example.com',
    created_at: '2016-10-17T19:52:43Z',
    type,
    data,
    actor_type: 'user',
    actor_id: 'a91bb75',
    actor_name: 'Michelle Han',
    model_type: modelType,
    model_id: modelId,
    model: model as EventEnvelope['model'],
  };
}

/** Where each built-in model type's resource is read (see `resourceLocator`) and the topic of its thin notifications. */
const BUILT_IN_RESOURCES: Record<ModelType, { resourcePath: string; topic: string }> = {
  ticket: { resourcePath: '/v0/tickets/{id}', topic: 'sac_ticket' },
  message: { resourcePath: '/v0/tickets/{ticket_id}/messages/{id}', topic: 'sac_message' },
  survey_response: { resourcePath: '/v0/surveys/{survey_id}/responses/{id}', topic: 'sac_survey_response' },
  subscription: { resourcePath: '/v1/subscriptions/{id}', topic: 'hookhub_subscription' },
};

interface BuiltInSpec {
  type: string;
  description: string;
  modelType: ModelType;
  dataSchema: JsonSchema;
  modelSchema: JsonSchema;
  modelNullable?: boolean;
  example: EventEnvelope;
}

/** A built-in type: one version, defined like any other. */
function builtIn(spec: BuiltInSpec): EventTypeDefinition {
  const { type, description, modelType, ...version } = spec;
  return {
    key: `builtin:${type}`,
    type,
    description,
    scope: 'builtin',
    tenantId: null,
    modelType,
    ...BUILT_IN_RESOURCES[modelType],
    deprecated: false,
    versions: [{ version: 1, deprecated: false, ...version }],
  };
}

function ticket(type: string, description: string, dataSchema: JsonSchema, data: Record<string, unknown>): EventTypeDefinition {
  const deleted = type === 'ticket.deleted';
  return builtIn({
    type,
    description,
    modelType: 'ticket',
    dataSchema,
    modelSchema: TICKET_MODEL,
    example: exampleEnvelope(type, 'ticket', deleted ? null : exampleTicket, data, TICKET_ID),
  });
}

const label: JsonSchema = {
  type: 'object',
  required: ['label_id'],
  properties: { label_id: { type: 'string' }, label_name: { type: 'string' }, label_color: { type: 'string' } },
  additionalProperties: true,
};
const labelData = { label_id: '97b0a40', label_name: 'High Priority', label_color: 'red' };

/** Normalised delivery states of outgoing messages across all providers. */
export const MESSAGE_STATUSES = [
  'queued',
  'sent',
  'delivered',
  'read',
  'failed',
  'bounced',
  'deferred',
  'dropped',
  'opened',
  'clicked',
  'complained',
  'unsubscribed',
  'expired',
  'rejected',
  'unknown',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * Operational events about the hub's own subscriptions. They reach only
 * subscriptions that name them (`webhook.disabled` or `webhook.*`), never `*`.
 */
export const SYSTEM_EVENT_GROUP = 'webhook';

const exampleSubscription = {
  id: '5d1b4c9e-2f3a-4b6c-8d7e-9f0a1b2c3d4e',
  url: 'https://hooks.example.com/hookhub',
  state: 'disabled',
  state_reason: 'disabled after 10 consecutive failed attempts',
  event_types: ['ticket.*'],
};

/** The built-in catalogue: the default set every tenant has. */
export const EVENT_TYPE_DEFINITIONS: readonly EventTypeDefinition[] = [
  ticket('ticket.created', 'A ticket was opened.', empty, {}),
  ticket(
    'ticket.updated',
    'Fields of a ticket changed.',
    { type: 'object', properties: { changes: { type: 'object' } }, additionalProperties: true },
    { changes: { subject: ['email from customer', 'Refund request'] } },
  ),
  ticket(
    'ticket.status_changed',
    'A ticket moved to another state.',
    {
      type: 'object',
      required: ['from', 'to'],
      properties: { from: { type: 'string' }, to: { type: 'string' } },
      additionalProperties: true,
    },
    { from: 'open', to: 'hold' },
  ),
  ticket('ticket.label_added', 'A label was added to a ticket.', label, labelData),
  ticket('ticket.label_removed', 'A label was removed from a ticket.', label, labelData),
  ticket(
    'ticket.assigned',
    'A ticket was assigned to a user or team.',
    {
      type: 'object',
      properties: { user_id: { type: ['string', 'null'] }, team_id: { type: ['string', 'null'] } },
      additionalProperties: true,
    },
    { user_id: 'a91bb75', team_id: null },
  ),
  ticket('ticket.resolved', 'A ticket was resolved.', empty, {}),
  ticket('ticket.deleted', 'A ticket was deleted; its data must be removed by subscribers.', empty, {}),
  builtIn({
    type: 'message.created',
    description: 'A message was added to a ticket (inbound email, reply, note).',
    modelType: 'message',
    dataSchema: empty,
    modelSchema: MESSAGE_MODEL,
    example: exampleEnvelope('message.created', 'message', exampleMessage, {}, MESSAGE_ID),
  }),
  builtIn({
    type: 'message.updated',
    description: 'A message was edited.',
    modelType: 'message',
    dataSchema: empty,
    modelSchema: MESSAGE_MODEL,
    example: exampleEnvelope('message.updated', 'message', exampleMessage, {}, MESSAGE_ID),
  }),
  builtIn({
    type: 'message.deleted',
    description: 'A message was deleted; its data must be removed by subscribers.',
    modelType: 'message',
    dataSchema: { type: 'object', required: ['ticket_id'], properties: { ticket_id: { type: 'string' } } },
    modelSchema: MESSAGE_MODEL,
    example: exampleEnvelope('message.deleted', 'message', null, { ticket_id: TICKET_ID }, MESSAGE_ID),
  }),
  builtIn({
    type: 'message.delivery_status',
    description:
      "A provider reported the delivery state of an outgoing message. `model` is the hub's message whose `provider_message_id` matches, or null (with `model_id` the provider's id) when there is none.",
    modelType: 'message',
    modelNullable: true,
    dataSchema: {
      type: 'object',
      required: ['provider', 'provider_message_id', 'status', 'occurred_at'],
      properties: {
        provider: { type: 'string' },
        provider_message_id: { type: 'string' },
        status: { type: 'string', enum: MESSAGE_STATUSES },
        raw_status: { type: ['string', 'null'] },
        error_code: { type: ['string', 'null'] },
        error_message: { type: ['string', 'null'] },
        occurred_at: { type: 'string', format: 'date-time' },
      },
      additionalProperties: true,
    },
    modelSchema: MESSAGE_MODEL,
    example: exampleEnvelope(
      'message.delivery_status',
      'message',
      exampleMessage,
      {
        provider: 'twilio_sms',
        provider_message_id: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
        status: 'delivered',
        raw_status: 'delivered',
        error_code: null,
        error_message: null,
        occurred_at: '2016-10-17T19:52:50Z',
      },
      MESSAGE_ID,
    ),
  }),
  builtIn({
    type: 'survey.response_completed',
    description: 'A customer completed a survey response.',
    modelType: 'survey_response',
    dataSchema: empty,
    modelSchema: SURVEY_RESPONSE_MODEL,
    example: exampleEnvelope('survey.response_completed', 'survey_response', exampleResponse, {}, exampleResponse.id),
  }),
  builtIn({
    type: 'webhook.test',
    description: 'A test event sent on request (POST /v1/subscriptions/:id/test); never retried.',
    modelType: 'subscription',
    dataSchema: { type: 'object', properties: { message: { type: 'string' } }, additionalProperties: true },
    modelSchema: SUBSCRIPTION_MODEL,
    example: exampleEnvelope(
      'webhook.test',
      'subscription',
      { ...exampleSubscription, state: 'active', state_reason: null },
      { message: 'This is a test event from Hookhub.' },
      exampleSubscription.id,
    ),
  }),
  builtIn({
    type: 'webhook.disabled',
    description: "A subscription was disabled after too many consecutive failures; sent to the tenant admins' subscription.",
    modelType: 'subscription',
    dataSchema: {
      type: 'object',
      required: ['subscription_id', 'reason'],
      properties: {
        subscription_id: { type: 'string' },
        reason: { type: 'string' },
        consecutive_failures: { type: 'integer' },
        last_error: { type: ['string', 'null'] },
      },
      additionalProperties: true,
    },
    modelSchema: SUBSCRIPTION_MODEL,
    example: exampleEnvelope(
      'webhook.disabled',
      'subscription',
      exampleSubscription,
      {
        subscription_id: exampleSubscription.id,
        reason: 'disabled after 10 consecutive failed attempts',
        consecutive_failures: 10,
        last_error: 'endpoint answered 503',
      },
      exampleSubscription.id,
    ),
  }),
];

/** Names of the built-in event types. */
export const EVENT_TYPES: readonly string[] = EVENT_TYPE_DEFINITIONS.map((d) => d.type);

const byType = new Map(EVENT_TYPE_DEFINITIONS.map((d) => [d.type, d]));

/** The version an event without a schema version gets. */
export function latestVersion(def: EventTypeDefinition): EventTypeVersion {
  return def.versions[def.versions.length - 1];
}

/** A built-in event type by name. */
export function eventTypeDefinition(type: string): EventTypeDefinition | undefined {
  return byType.get(type);
}
