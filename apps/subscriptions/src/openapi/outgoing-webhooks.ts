import { envelopeSchema, EVENT_TYPE_DEFINITIONS, latestVersion } from '@hookhub/contracts';
import type { JsonSchema } from './problem-responses';

/** Component name of an event type's full envelope, e.g. `Event.ticket.created`. */
const eventSchemaName = (type: string): string => `Event.${type}`;

const header = (name: string, description: string, schema: JsonSchema = { type: 'string' }, required = false): JsonSchema => ({
  name,
  in: 'header',
  required,
  description,
  schema,
});

/** What every webhook request carries, whatever its scheme and format. */
const COMMON_HEADERS = [
  header('X-Webhook-Event', 'The event type, e.g. `ticket.created`', { type: 'string' }, true),
  header(
    'X-Webhook-Delivery',
    'The delivery id: the same on every attempt of one delivery, so receivers can de-duplicate',
    { type: 'string', format: 'uuid' },
    true,
  ),
  header('X-Webhook-Subscription', 'The subscription id', { type: 'string', format: 'uuid' }, true),
  header('X-Webhook-Attempt', 'The attempt number, from 1', { type: 'string', pattern: '^[1-9][0-9]*$' }, true),
  header('X-Webhook-Resource-Version', "The event's version in its resource's log, when known: a receiver may drop an event older than one it has applied", {
    type: 'string',
    pattern: '^[0-9]+$',
  }),
  header(
    'X-Webhook-Schema-Version',
    "The version of the event type's schema the event follows (GET /v1/event-types/{type}); a subscription may accept only some (`schema_versions`)",
    { type: 'string', pattern: '^[1-9][0-9]*$' },
    true,
  ),
  header('User-Agent', '`Hookhub-Webhooks/1.0`'),
];

const ROTATION =
  'During a secret rotation the request is signed by the new and the previous secret: the header then holds one signature per secret ' +
  '(new first); accept the request when any of them verifies.';

/** The three signature schemes, chosen per subscription (`signature_scheme`); each sends only its own headers. */
const SIGNATURE_HEADERS = [
  header(
    'X-Webhook-Signature',
    "Scheme `sha256` (the default): `sha256=<hex HMAC-SHA256 of the raw body, keyed by the subscription's secret>`. " +
      `${ROTATION} Here they are comma-separated: \`sha256=<new>,sha256=<old>\`.`,
    { type: 'string', pattern: '^sha256=[0-9a-f]{64}(,sha256=[0-9a-f]{64})*$' },
  ),
  header(
    'Enchant-Signature',
    "Scheme `enchant`: the hex HMAC-SHA256 of the raw body, keyed by the subscription's secret, without prefix. " +
      `${ROTATION} Here they are comma-separated: \`<new>,<old>\`.`,
    { type: 'string', pattern: '^[0-9a-f]{64}(,[0-9a-f]{64})*$' },
  ),
  header('webhook-id', 'Scheme `standard-webhooks` (https://www.standardwebhooks.com): the message id, the delivery id', { type: 'string' }),
  header('webhook-timestamp', 'Scheme `standard-webhooks`: Unix seconds when the attempt was signed; refuse ones too far from now', {
    type: 'string',
    pattern: '^[0-9]+$',
  }),
  header(
    'webhook-signature',
    'Scheme `standard-webhooks`: `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`, keyed by the base64-decoded ' +
      `part of the \`whsec_…\` secret. ${ROTATION} Here they are space-separated: \`v1,<new> v1,<old>\`.`,
    { type: 'string' },
  ),
];

const RECEIVER_RESPONSES = {
  '2XX': { description: 'Delivered. Anything else (or no answer within WEBHOOK_TIMEOUT_MS) is a failed attempt, retried by the subscription’s retry policy.' },
  default: { description: 'A failed attempt: retried later; ten in a row (and failing for DISABLE_AFTER_FAILING_MS) disable the subscription.' },
};

const THIN_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'The thin format: what changed and where to read it (GET the `resource` path with an API key), without the data itself.',
  required: ['data', 'tenant_id', 'topic'],
  properties: {
    data: {
      type: 'object',
      required: ['status', 'params', 'resource'],
      properties: {
        status: { type: 'string', enum: ['CREATION', 'UPDATE', 'DELETION'] },
        params: { type: 'object', additionalProperties: { type: 'string' }, description: 'The ids in `resource`' },
        resource: { type: 'string', description: 'Path of the resource on this API, e.g. /v0/tickets/debde69a-2dbb-427b-b478-6cffd7930ecf' },
      },
    },
    tenant_id: { type: 'string' },
    topic: { type: 'string', description: 'The kind of resource, e.g. `sac_ticket`' },
  },
};

/**
 * The outgoing webhooks as OpenAPI 3.1 `webhooks`, with the event schemas
 * they refer to (the catalogue's, as GET /v1/event-types serves them).
 */
export function outgoingWebhooks(): { webhooks: Record<string, JsonSchema>; schemas: Record<string, JsonSchema> } {
  const schemas: Record<string, JsonSchema> = {};
  for (const def of EVENT_TYPE_DEFINITIONS) {
    const { $schema: _dialect, ...schema } = envelopeSchema(def, latestVersion(def));
    schemas[eventSchemaName(def.type)] = { ...schema, example: latestVersion(def).example };
  }
  schemas.Event = {
    description: 'An event as a subscription with the full format receives it; `type` says which schema applies.',
    oneOf: EVENT_TYPE_DEFINITIONS.map((d) => ({ $ref: `#/components/schemas/${eventSchemaName(d.type)}` })),
  };
  schemas.ThinNotification = THIN_SCHEMA;
  const parameters = [...COMMON_HEADERS, ...SIGNATURE_HEADERS];
  const webhooks: Record<string, JsonSchema> = {
    event: {
      post: {
        operationId: 'webhooks.event',
        summary: 'An event, to a subscription with `format: full`',
        description:
          'POSTed to the subscription’s URL with its custom headers. Verify the signature over the raw body before parsing it. ' +
          'Events of one resource carry increasing `X-Webhook-Resource-Version`s; a retried delivery keeps its `X-Webhook-Delivery`.',
        tags: ['webhooks'],
        parameters,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Event' } } } },
        responses: RECEIVER_RESPONSES,
      },
    },
    thinNotification: {
      post: {
        operationId: 'webhooks.thinNotification',
        summary: 'A change notification, to a subscription with `format: thin`',
        description: 'Signed and retried like full events; the receiver reads the resource through the REST API.',
        tags: ['webhooks'],
        parameters,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ThinNotification' } } } },
        responses: RECEIVER_RESPONSES,
      },
    },
    verification: {
      get: {
        operationId: 'webhooks.verification',
        summary: 'The verification handshake, for subscriptions created with a `verify_token`',
        description: 'GET to the subscription’s URL with two query parameters; the endpoint proves it wants the events by echoing the challenge.',
        tags: ['webhooks'],
        parameters: [
          {
            name: 'verifyToken',
            in: 'query',
            required: true,
            description: 'The subscription’s `verify_token`: answer only when it is yours',
            schema: { type: 'string' },
          },
          { name: 'challenge', in: 'query', required: true, description: 'Random text the body of the answer must contain', schema: { type: 'string' } },
        ],
        responses: {
          '2XX': {
            description: 'Within 20 s, with the challenge in the body: the subscription becomes active',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          default: { description: 'The subscription stays pending_verification' },
        },
      },
    },
  };
  return { webhooks, schemas };
}
