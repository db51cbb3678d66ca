import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { isIn, isISO8601, isURL, isUUID, length as isLength, matches } from 'class-validator';
import {
  BUILT_IN_RESOURCE_ROOTS,
  EVENT_ID_PATTERN,
  EVENT_TYPE_SYNTAX,
  EVENT_TYPES,
  MESSAGE_STATUSES,
  MODEL_TYPES,
  RESOURCE_PATH_SYNTAX,
  SYSTEM_EVENT_GROUP,
} from '@hookhub/contracts';
import {
  API_KEY_ROLES,
  DELIVERY_STATUSES,
  PAYLOAD_FORMATS,
  PORTAL_SESSION_ROLES,
  ProviderCallbackRepository,
  SIGNATURE_SCHEMES,
  SUBSCRIPTION_STATES,
} from '@hookhub/persistence';
import { PROVIDER_NAMES } from '@hookhub/providers';
import * as bad from '../support/bad-input';
import { eventually } from '../support/eventually';
import { ApiClient, RunningHub, startHub } from '../support/hub';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * Issue #6: thousands of malformed requests at every public route of the
 * subscriptions app. Every request is invalid by construction (bad
 * credentials, a key without the role or of another tenant, a broken body,
 * an invalid field, an invalid query, an id that names nothing, an unknown
 * route or method, broken HTTP framing) and must get a 4xx problem document
 * and change nothing; GET noise, which may be valid, must never get a 5xx.
 */

type IdKind =
  | 'tenant'
  | 'subscription'
  | 'delivery'
  | 'apiKey'
  | 'connection'
  | 'callback'
  | 'ticket'
  | 'message'
  | 'survey'
  | 'response'
  | 'eventType'
  | 'platformType'
  | 'version'
  | 'widget'
  | 'portalSession';

interface DtoSpec {
  /** A body the route accepts. */
  valid: Record<string, unknown>;
  required: string[];
  /** Per field, values the route refuses. */
  invalid: Record<string, fc.Arbitrary<unknown>>;
}

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path with `:kind` placeholders for ids. */
  pattern: string;
  /** `optional-api-key`: public, but a key that is sent must be valid. */
  auth: 'admin-token' | 'api-key' | 'optional-api-key' | 'public';
  /** Roles that may call (admin always may). */
  roles?: string[];
  body?: DtoSpec;
  query?: bad.QueryParamSpec[];
}

const LIMIT = 256 * 1024;
const MAX_DEPTH = 64;
const RUNS = {
  auth: 300,
  roles: 150,
  bodies: 400,
  dtos: 1000,
  queries: 250,
  ids: 300,
  routes: 200,
  framing: 200,
  noise: 250,
  static: 150,
};

/* --------------------------------------------------------- field predicates */

const str = (min: number, max: number) => (s: string) => isLength(s, min, max);
const oneOf = (values: readonly string[]) => (s: string) => isIn(s, values as string[]);
const timestamp = (s: string) => isISO8601(s, { strict: true }) && !Number.isNaN(Date.parse(s));
const WEIRD_DATES = fc.constantFrom(
  '2020-W01-1',
  '2020-W53',
  '2020-W01',
  '2026-W47-7T10:00:00Z',
  '+002020-01-01',
  '2020-02-30',
  '2021-02-29T00:00:00Z',
  '2020-13-01',
  '2020-01-01T25:00:00Z',
  '2020-01-01T10:60',
  '0000-00-00',
  '2020-1-1',
  '20200101T1000',
  '2020-01-01T10:00:00+25:00',
  'now',
  'today',
);
const EVENT_TYPE_PATTERN = /^(\*|[a-z_]+\.\*|[a-z_]+\.[a-z_]+)$/;
const GROUPS = new Set(EVENT_TYPES.map((t) => t.split('.')[0]));
const knownPattern = (p: string) => p === '*' || (p.endsWith('.*') ? GROUPS.has(p.slice(0, -2)) : EVENT_TYPES.includes(p));
const RESERVED_HEADER = /^(content-type|content-length|host|connection|transfer-encoding|user-agent|x-webhook-.*|webhook-.*|enchant-signature)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const validHeaderMap = (v: unknown) =>
  bad.isPlainObject(v) &&
  Object.keys(v).length <= 20 &&
  Object.entries(v).every(([k, x]) => HEADER_NAME.test(k) && !RESERVED_HEADER.test(k) && typeof x === 'string' && x.length <= 1000 && !/[\r\n\0]/.test(x));
const PUBLIC_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** Arrays that are invalid because of one element (or their size). */
function badArray(
  element: fc.Arbitrary<unknown>,
  validElement: (v: unknown) => boolean,
  options: { maxLength?: number; minLength?: number; unique?: boolean } = {},
): fc.Arbitrary<unknown> {
  const arbs: fc.Arbitrary<unknown>[] = [bad.notAnArray, fc.array(bad.anyJson, { minLength: 1, maxLength: 4 }).filter((a) => a.some((x) => !validElement(x)))];
  arbs.push(
    fc
      .tuple(fc.array(element, { maxLength: 3 }), fc.oneof(bad.anyJson, bad.nastyString))
      .filter(([, x]) => !validElement(x))
      .map(([a, x]) => [...a, x]),
  );
  if (options.minLength) arbs.push(fc.constant([]));
  if (options.maxLength) arbs.push(element.map((e) => Array.from({ length: options.maxLength! + 1 }, () => e)));
  if (options.unique) arbs.push(element.map((e) => [e, e]));
  return fc.oneof(...arbs);
}

/** A list a subscription's `schema_versions` may give a type: 1 to 100 distinct versions (1 to 1,000,000). */
const validVersionList = (v: unknown) =>
  Array.isArray(v) && v.length >= 1 && v.length <= 100 && new Set(v).size === v.length && v.every((n) => Number.isInteger(n) && n > 0 && n <= 1_000_000);

/** A string containing U+0000 (no column can store it) of an otherwise acceptable length. */
const withNul = fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })).map(([a, b]) => `${a || 'x'}\u0000${b}`);

/*
 * Event types defined through the API (#18). Names, model types and resource
 * paths are unique per run, so a valid body is refused only for what the
 * request gets wrong, never because an earlier run took its name (409).
 *  - own: tenant A's type (a fixture: its versions and resources are in paths);
 *  - tenantValid: the tenant DtoSpec's valid type; tenant B defines it as it is
 *    (proof that it is accepted), and A does not see B's types, so for A it is
 *    still new, and its name is a type A does not know;
 *  - platform: a platform type (a fixture, seen by every tenant);
 *  - platformValid: the platform DtoSpec's valid type, never created.
 */
const RUN = randomUUID().replace(/-/g, '').slice(0, 8);
const typeNames = (group: string, name: string, model: string, collection: string, topic: string) => ({
  name: `${group}.${name}`,
  model_type: `${group}_${model}`,
  resource_path: `/v0/${group}/${collection}/{id}`,
  topic,
});
const TYPES = {
  own: typeNames(`fz${RUN}`, 'created', 'widget', 'widgets', `fz${RUN}.widget`),
  tenantValid: typeNames(`fz${RUN}`, 'updated', 'gadget', 'gadgets', `fz${RUN}-gadget`),
  platform: typeNames(`pf${RUN}`, 'created', 'thing', 'things', `pf${RUN}.thing`),
  platformValid: typeNames(`pf${RUN}`, 'updated', 'item', 'items', `pf${RUN}-item`),
};
const widgetPath = (id: string) => TYPES.own.resource_path.replace('{id}', id);
/** Types tenant A sees besides the built-in ones. */
const SEEN_BY_A = [TYPES.own.name, TYPES.platform.name];
const MODEL_TYPE_SYNTAX = /^[a-z][a-z0-9_]{0,63}$/;
const TOPIC_SYNTAX = /^[a-z][a-z0-9_.-]{0,63}$/;
const MAX_SCHEMA_BYTES = 65_536;

/* ---------------------------------------------------------------- DTO specs */

const tenantDto: DtoSpec = {
  valid: { name: 'Fuzz tenant', account_url: 'https://fuzz.example.com' },
  required: ['name'],
  invalid: {
    name: fc.oneof(bad.invalidString(str(1, 200)), withNul),
    account_url: bad.invalidString((s) => isURL(s, { protocols: ['https', 'http'], require_protocol: true }) && s.length <= 2048),
  },
};

const keyDto: DtoSpec = {
  valid: { name: 'fuzz key', roles: ['reader'] },
  required: ['name', 'roles'],
  invalid: {
    name: fc.oneof(bad.invalidString(str(1, 200)), withNul),
    roles: badArray(fc.constantFrom(...API_KEY_ROLES), (v) => typeof v === 'string' && isIn(v, [...API_KEY_ROLES]), { minLength: 1, unique: true }),
  },
};

/**
 * Portal sessions (#14). `keyId` is the key the valid body names (it may make a reader session); `unusable` are keys
 * it may not be made under: another tenant's, a revoked one, one without the admin or reader role (422).
 */
const portalSessionDto = (keyId: string, unusable: string[]): DtoSpec => ({
  valid: { api_key_id: keyId, role: 'reader', expires_in_ms: 600_000 },
  required: ['api_key_id', 'role'],
  invalid: {
    api_key_id: fc.oneof(
      bad.invalidString((s) => isUUID(s, 'all')),
      fc.constantFrom(...unusable),
      fc.uuid().filter((u) => u !== keyId),
    ),
    role: bad.invalidString(oneOf(PORTAL_SESSION_ROLES)),
    expires_in_ms: fc.oneof(bad.notAnIntegerIn(1_000, 86_400_000), fc.constantFrom(0, 999, 86_400_001, 7 * 86_400_000)),
  },
});

const createSubscriptionFields: Record<string, fc.Arbitrary<unknown>> = {
  url: fc.oneof(
    bad.notAString,
    bad.hugeString(2_049, 5_000).map((s) => `https://example.com/${s}`),
    bad.nastyString.filter((s) => !/^https?:\/\//i.test(s.trim())),
    fc.constantFrom(
      'ftp://example.com/hook',
      'file:///etc/passwd',
      'https://',
      'https://exa mple.com/',
      'gopher://x',
      'javascript:alert(1)',
      '//example.com/hook',
      'https://user:pass@[::1',
      'data:text/plain,hi',
    ),
  ),
  event_types: fc.oneof(
    badArray(fc.constantFrom('ticket.created', 'message.*', '*'), (v) => typeof v === 'string' && EVENT_TYPE_PATTERN.test(v), {
      minLength: 1,
      maxLength: 100,
      unique: true,
    }),
    fc
      .stringMatching(/^[a-z_]{1,10}\.[a-z_]{1,10}$/)
      .filter((t) => !knownPattern(t))
      .map((t) => [t]),
  ),
  model_ids: badArray(fc.constant('m-1'), (v) => typeof v === 'string' && isLength(v, 1, 128), { maxLength: 1000 }),
  schema_versions: fc.oneof(
    bad.notAnObject,
    fc
      .dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('ticket.created', TYPES.own.name)), fc.oneof(bad.anyJson, fc.constant([1])), {
        minKeys: 1,
        maxKeys: 4,
      })
      .filter((m) => Object.entries(m).some(([k, v]) => !EVENT_TYPE_SYNTAX.test(k) || !validVersionList(v))),
    fc.constantFrom<Record<string, unknown>>(
      { 'Ticket.created': [1] },
      { ticket: [1] },
      { 'ticket.*': [1] },
      { '*': [1] },
      { '': [1] },
      { 'ticket.created ': [1] },
      { 'ticket.created': 1 },
      { 'ticket.created': [] },
      { 'ticket.created': {} },
      { 'ticket.created': [0] },
      { 'ticket.created': [-1] },
      { 'ticket.created': [1.5] },
      { 'ticket.created': ['1'] },
      { 'ticket.created': [1, 1] },
      { 'ticket.created': [null] },
      { 'ticket.created': [1_000_001] },
      { 'ticket.created': Array.from({ length: 101 }, (_, i) => i + 1) },
      Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`fz${RUN}.t${i}`, [1]])),
      // Versions the type does not have, and types the tenant does not see (422).
      { 'ticket.created': [2] },
      { [TYPES.own.name]: [1, 2, 3] },
      { [TYPES.platform.name]: [3] },
      { [TYPES.tenantValid.name]: [1] },
      { 'ticket.created': [1], 'nosuch.type': [1] },
    ),
    fc
      .stringMatching(/^[a-z_]{1,10}\.[a-z_]{1,12}$/)
      .filter((t) => !EVENT_TYPES.includes(t) && !SEEN_BY_A.includes(t))
      .map((t) => ({ [t]: [1] })),
    fc.tuple(fc.constantFrom('ticket.created', ...SEEN_BY_A), fc.integer({ min: 3, max: 1_000_000 })).map(([t, v]) => ({ [t]: [1, v] })),
  ),
  // Every refusal of a rate limit is a 422 invalid-rate-limit (null is no limit, so never sent here).
  rate_limit: fc.oneof(
    bad.notAnObject,
    fc.constant({}),
    fc.record({ per_second: bad.notAnIntegerIn(1, 10_000) }),
    fc.record({ per_second: fc.integer({ min: 1, max: 10_000 }), burst: bad.notAnIntegerIn(1, 100_000) }),
    // A burst below the rate: at most `burst` in a second cannot be `per_second` a second.
    fc
      .integer({ min: 2, max: 10_000 })
      .chain((perSecond) => fc.record({ per_second: fc.constant(perSecond), burst: fc.integer({ min: 1, max: perSecond - 1 }) })),
    fc.tuple(bad.unknownKey(['per_second', 'burst']), bad.anyJson).map(([k, v]) => ({ per_second: 10, [k]: v })),
    fc.constantFrom<unknown>(
      { per_second: 0 },
      { per_second: -1 },
      { per_second: 1.5 },
      { per_second: '10' },
      { per_second: null },
      { per_second: 10_001 },
      { per_second: 1e21 },
      { burst: 10 },
      { per_second: 10, burst: 9 },
      { per_second: 10, burst: 100_001 },
      { per_second: 10, burst: '20' },
      { per_second: 10, burst: 2 ** 31 },
      { per_second: 10, burst: 20, every: 'minute' },
      [],
      [{ per_second: 10 }],
      'per_second=10',
      10,
      true,
    ),
  ),
  format: bad.invalidString(oneOf(PAYLOAD_FORMATS)),
  signature_scheme: bad.invalidString(oneOf(SIGNATURE_SCHEMES)),
  secret: bad.invalidString(str(16, 256)),
  headers: fc
    .oneof(
      bad.notAnObject,
      fc.dictionary(
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('Content-Type', 'host', 'X-Webhook-Id', 'webhook-signature', 'bad name', 'é')),
        fc.oneof(bad.anyJson, bad.nastyString),
        { minKeys: 1, maxKeys: 25 },
      ),
    )
    .filter((v) => !validHeaderMap(v)),
  retry_policy_ms: badArray(fc.constant(1000), (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 7 * 24 * 3_600_000, { maxLength: 20 }),
  disable_after_failing_ms: bad.notAnIntegerIn(0, 7 * 24 * 3_600_000),
  verify_token: fc.oneof(bad.invalidString(str(1, 256)), withNul),
  description: fc.oneof(
    bad.invalidString((s) => s.length <= 1000),
    withNul,
  ),
};

const createSubscriptionDto = (receiverUrl: string): DtoSpec => ({
  valid: { url: `${receiverUrl}/fuzz-created`, event_types: ['ticket.created'] },
  required: ['url', 'event_types'],
  invalid: createSubscriptionFields,
});

const updateSubscriptionDto: DtoSpec = {
  valid: { description: 'changed by fuzzing' },
  required: [],
  invalid: {
    ...Object.fromEntries(Object.entries(createSubscriptionFields).filter(([k]) => k !== 'secret' && k !== 'signature_scheme')),
    url: fc.oneof(createSubscriptionFields.url, fc.constant(null)),
    event_types: fc.oneof(createSubscriptionFields.event_types, fc.constant(null)),
    format: fc.oneof(createSubscriptionFields.format, fc.constant(null)),
  },
};

const rotateDto: DtoSpec = {
  valid: { overlap_ms: 1_000 },
  required: [],
  invalid: { secret: bad.invalidString(str(16, 256)), overlap_ms: bad.notAnIntegerIn(0, 7 * 24 * 3_600_000) },
};

const replayDto: DtoSpec = {
  valid: { since: '2020-01-01T00:00:00Z', only_failed: true },
  required: ['since'],
  invalid: { since: bad.invalidString(timestamp, [WEIRD_DATES]), only_failed: bad.notABoolean },
};

const eventDto = (tenantId: string): DtoSpec => ({
  valid: { type: 'ticket.created', model_id: 'fuzz-ticket', model: { id: 'fuzz-ticket', subject: 'never published' } },
  required: ['type', 'model_id'],
  invalid: {
    id: fc.oneof(bad.invalidString((s) => matches(s, new RegExp(EVENT_ID_PATTERN)))),
    type: fc.oneof(
      bad.notAString,
      bad.nastyString.filter((s) => !EVENT_TYPES.includes(s)),
      fc.stringMatching(/^[a-z_]{1,10}\.[a-z_]{1,12}$/).filter((t) => !EVENT_TYPES.includes(t) && !SEEN_BY_A.includes(t)),
      // Another tenant's type, and types A sees whose schema the body's ticket model breaks (422).
      fc.constantFrom(TYPES.tenantValid.name, TYPES.own.name, TYPES.platform.name),
    ),
    // ticket.created has version 1 only.
    schema_version: fc.oneof(
      bad.notAnIntegerIn(1, 1_000_000),
      fc.integer({ min: 2, max: 1_000_000 }),
      fc.constantFrom(0, -1, 1.5, '1', 2 ** 31, 2 ** 53, 1e21),
    ),
    created_at: bad.invalidString(timestamp, [WEIRD_DATES]),
    account_id: fc.oneof(
      bad.notAString,
      bad.nastyString.filter((s) => s !== tenantId),
      fc.uuid().filter((u) => u !== tenantId),
    ),
    data: fc.oneof(bad.notAnObject, fc.record({ nul: withNul })),
    actor_type: fc.oneof(bad.notAString, bad.hugeString(65, 300)),
    actor_id: fc.oneof(bad.notAString, bad.hugeString(129, 300)),
    actor_name: fc.oneof(bad.notAString, bad.hugeString(257, 600)),
    model_type: fc.oneof(
      bad.notAString,
      bad.nastyString.filter((s) => s !== 'ticket'),
      fc.constantFrom('message', 'survey_response', 'subscription', 'Ticket'),
    ),
    model_id: fc.oneof(bad.invalidString(str(1, 128)), withNul),
    model: bad.notAnObject,
  },
});

const createConnectionDto: DtoSpec = {
  valid: { provider: 'twilio_sms', name: 'fuzz connection', credentials: { auth_token: 'fuzz-token' } },
  required: ['provider', 'credentials'],
  invalid: {
    provider: bad.invalidString(oneOf(PROVIDER_NAMES)),
    name: fc.oneof(bad.invalidString(str(1, 200)), withNul),
    public_url: bad.invalidString((s) => isURL(s, PUBLIC_URL) && s.length <= 2000),
    credentials: fc.oneof(
      bad.notAnObject,
      fc.constant({}),
      fc.record({ auth_token: fc.oneof(bad.notAString, fc.constant(''), bad.hugeString(8_193, 20_000)) }),
      fc.tuple(bad.unknownKey(['auth_token']), fc.string()).map(([k, v]) => ({ auth_token: 't', [k]: v })),
    ),
    status_map: fc.oneof(
      bad.notAnObject,
      fc
        .dictionary(fc.string({ maxLength: 10 }), fc.oneof(bad.anyJson, fc.string()), { minKeys: 1, maxKeys: 3 })
        .filter((m) => Object.entries(m).some(([k, v]) => k === '' || !(MESSAGE_STATUSES as readonly unknown[]).includes(v))),
      fc.constant(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`s${i}`, 'delivered']))),
    ),
  },
};

const updateConnectionDto: DtoSpec = {
  valid: { name: 'renamed by fuzzing' },
  required: [],
  invalid: {
    name: createConnectionDto.invalid.name,
    public_url: createConnectionDto.invalid.public_url,
    credentials: fc.oneof(
      bad.notAnObject,
      fc.record({ auth_token: fc.oneof(bad.notAString, fc.constant('')) }),
      fc.tuple(bad.unknownKey(['auth_token']), fc.string()).map(([k, v]) => ({ [k]: v })),
    ),
    status_map: createConnectionDto.invalid.status_map,
  },
};

/* ------------------------------------------------------- event-type specs */

const WIDGET_SCHEMA = { type: 'object', required: ['id', 'size'], properties: { id: { type: 'string' }, size: { type: 'integer', minimum: 0 } } };
const widget = (id: string) => ({ id, size: 1 });
/** A schema version: what every valid event-type body holds. */
const validVersion = { model_schema: WIDGET_SCHEMA, example: { model: widget('w-example') } };
const RESERVED_GROUPS = [...new Set([...GROUPS, SYSTEM_EVENT_GROUP])];

/** Objects that are no 2020-12 JSON Schema, or one that does not compile (a bad regular expression, a `$ref` to nothing, another draft). */
const notAJsonSchema = fc.constantFrom<Record<string, unknown>>(
  { type: 'strin' },
  { type: ['object', 'nope'] },
  { type: 'object', required: 'id' },
  { type: 'object', required: [1] },
  { type: 'object', properties: [] },
  { type: 'object', properties: { id: 'string' } },
  { type: 'object', minProperties: 'a' },
  { type: 'object', maxProperties: -1 },
  { allOf: {} },
  { anyOf: [] },
  { $defs: 1 },
  { additionalProperties: 'no' },
  { type: 'object', properties: { id: { type: 'string', pattern: '([' } } },
  // Patterns that need backtracking, which the hub's linear-time matcher (RE2) does not run.
  { type: 'object', properties: { id: { type: 'string', pattern: '^(?=w)w' } } },
  { type: 'object', properties: { id: { type: 'string', pattern: '^(w)\\1$' } } },
  { $ref: '#/$defs/missing' },
  { type: 'object', properties: { id: { $ref: '#/$defs/id' } } },
  { $ref: 'https://schemas.example.com/widget.json' },
  { $ref: 'widget.json' },
  { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' },
  { $schema: 'https://example.com/not-a-meta-schema', type: 'object' },
);
/** JSON Schemas that compile but that the example's model (a widget) breaks. */
const modelSchemaTheExampleBreaks = fc.constantFrom<Record<string, unknown>>(
  { type: 'object', required: ['id', 'colour'] },
  { type: 'object', properties: { size: { type: 'string' } } },
  { type: 'object', properties: { id: { type: 'integer' } } },
  { type: 'object', properties: { id: { type: 'string', maxLength: 1 } } },
  { type: 'object', additionalProperties: false },
  { type: 'object', maxProperties: 1 },
  { type: 'array' },
  { not: {} },
  { enum: [] },
  { oneOf: [{ type: 'object' }, { type: 'object' }] },
);
/** JSON Schemas of `data` that the example's data (none: {}) breaks. */
const dataSchemaTheExampleBreaks = fc.constantFrom<Record<string, unknown>>(
  { type: 'object', required: ['reason'] },
  { type: 'object', minProperties: 1 },
  { type: 'array' },
  { type: 'string' },
  { not: {} },
);
/** A schema over 65,536 bytes of JSON, in one-byte or multi-byte characters. */
const oversizeSchema = fc
  .tuple(fc.integer({ min: MAX_SCHEMA_BYTES + 1, max: 100_000 }), fc.constantFrom('x', 'é', '€', '😀'))
  .map(([bytes, ch]) => ({ type: 'object', description: ch.repeat(Math.ceil(bytes / Buffer.byteLength(ch))) }));
const badSchema = (brokenByTheExample: fc.Arbitrary<Record<string, unknown>>) => fc.oneof(bad.notAnObject, notAJsonSchema, brokenByTheExample, oversizeSchema);

const badExample = fc.oneof(
  bad.notAnObject,
  fc.constantFrom<Record<string, unknown>>(
    {},
    { data: {} },
    { model_id: 'w-9' },
    { model: { size: 1 } },
    { model: { id: 7, size: 1 } },
    { model: { id: '', size: 1 } },
    { model: { id: 'x'.repeat(129), size: 1 } },
    { model: { id: 'w-9' } },
    { model: { id: 'w-9', size: 'big' } },
    { model: { id: 'w-9', size: -1 } },
    // A null model is for a deletion type (`<group>.deleted`) only.
    { model: null },
    { model: null, model_id: 'w-9' },
    { model: [] },
    { model: 'w-9' },
    { model: 1 },
    { model: widget('w-9'), data: 'x' },
    { model: widget('w-9'), data: [] },
    { model: widget('w-9'), data: 1 },
    { model: widget('w-9'), model_id: '' },
    { model: widget('w-9'), model_id: 5 },
    { model: widget('w-9'), model_id: 'x'.repeat(129) },
  ),
  fc.tuple(bad.unknownKey(['model', 'data', 'model_id']), bad.anyJson).map(([k, v]) => ({ model: widget('w-9'), [k]: v })),
  fc.integer({ min: MAX_SCHEMA_BYTES + 1, max: 100_000 }).map((n) => ({ model: { ...widget('w-9'), note: 'x'.repeat(n) } })),
);

const versionFields = {
  model_schema: badSchema(modelSchemaTheExampleBreaks),
  data_schema: badSchema(dataSchemaTheExampleBreaks),
  example: badExample,
};

/** A type to define as `own`, where the types `taken` exist (their names, model types and paths give 409s). */
function createEventTypeDto(own: (typeof TYPES)['own'], taken: Array<(typeof TYPES)['own']>): DtoSpec {
  const segment = fc.stringMatching(/^[a-z0-9_-]{1,10}$/);
  return {
    valid: { ...own, description: 'defined by fuzzing', ...validVersion },
    required: ['name', 'description', 'model_type', 'model_schema', 'example'],
    invalid: {
      name: fc.oneof(
        bad.invalidString((s) => EVENT_TYPE_SYNTAX.test(s) && isLength(s, 3, 100)),
        fc.constantFrom(
          'Order.created',
          'order',
          'order.',
          '.created',
          'order.created.x',
          '1order.created',
          'order.Created',
          'order-x.created',
          'order.*',
          '*',
          ' order.created',
          'order.created\n',
          'ordér.created',
          `${'a'.repeat(60)}.${'b'.repeat(40)}`,
        ),
        // The built-in types' groups, webhook.* too (422).
        fc.tuple(fc.constantFrom(...RESERVED_GROUPS), fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/)).map(([g, n]) => `${g}.${n}`),
        fc.constantFrom(...taken.map((t) => t.name)),
      ),
      description: fc.oneof(bad.invalidString(str(1, 1000)), withNul),
      model_type: fc.oneof(
        bad.invalidString((s) => MODEL_TYPE_SYNTAX.test(s)),
        fc.constantFrom('Order', '1order', '_order', 'order-x', 'order.x', 'a'.repeat(65)),
        fc.constantFrom(...MODEL_TYPES),
        // Model types that have another resource path and topic (409).
        fc.constantFrom(...taken.map((t) => t.model_type)),
      ),
      resource_path: fc.oneof(
        bad.invalidString((s) => RESOURCE_PATH_SYNTAX.test(s)),
        fc.constantFrom(
          '/v0/orders',
          '/v0/{id}',
          '/v0/orders/{id}/x',
          '/v0/orders/{id}/',
          '/v1/orders/{id}',
          'v0/orders/{id}',
          '/v0/Orders/{id}',
          '/v0/orders/{ID}',
          '/v0/orders/:id',
          '/v0/orders/{id}?x=1',
          '/v0//{id}',
          '/v0/../{id}',
          '/v0/or ders/{id}',
          '/v0/a/b/c/d/e/{id}',
          `/v0/${'a'.repeat(65)}/{id}`,
        ),
        // The built-in resources' roots (422), and paths other model types have (409).
        fc
          .tuple(fc.constantFrom(...BUILT_IN_RESOURCE_ROOTS), fc.array(segment, { maxLength: 3 }))
          .map(([root, rest]) => `/v0/${[root, ...rest].join('/')}/{id}`),
        fc.constantFrom(...taken.map((t) => t.resource_path)),
      ),
      topic: fc.oneof(
        bad.invalidString((s) => TOPIC_SYNTAX.test(s)),
        fc.constantFrom('Topic', '1topic', '-topic', 'to pic', 'topic/x', 'a'.repeat(65)),
      ),
      ...versionFields,
    },
  };
}

const versionDto: DtoSpec = { valid: validVersion, required: ['model_schema', 'example'], invalid: versionFields };

const updateEventTypeDto: DtoSpec = {
  valid: { description: 'changed by fuzzing' },
  required: [],
  invalid: {
    description: fc.oneof(bad.invalidString(str(1, 1000)), withNul, fc.constant(null)),
    deprecated: fc.oneof(bad.notABoolean, fc.constant(null)),
  },
};

const updateVersionDto: DtoSpec = {
  valid: { deprecated: false },
  required: ['deprecated'],
  invalid: { deprecated: fc.oneof(bad.notABoolean, fc.constant(null)) },
};

/* ------------------------------------------------------------ query specs */

const listParams: bad.QueryParamSpec[] = [
  { name: 'limit', valid: (v) => /^-?\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 200 },
  { name: 'cursor', valid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v) },
];
const eventTypeParam: bad.QueryParamSpec = { name: 'event_type', valid: (v) => /^[a-z_]+\.[a-z_]+$/.test(v) };
const subscriptionParams = [...listParams, { name: 'state', valid: oneOf(SUBSCRIPTION_STATES) }, eventTypeParam];
const deliveryParams = [
  ...listParams,
  { name: 'status', valid: oneOf(DELIVERY_STATUSES) },
  eventTypeParam,
  { name: 'since', valid: timestamp },
  { name: 'until', valid: timestamp },
];

describe('bad input: the subscriptions app', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let api: ApiClient;
  let receiver: TestReceiver;
  let client: bad.BadInputClient;
  let probe: bad.SideEffectProbe;
  let ctx: bad.BadInputContext;
  let initial: bad.WorldState;
  let routes: Route[];
  let ids: Record<IdKind, string>;
  let existing: string[];
  let extraBadIds: Partial<Record<IdKind, string[]>>;
  let typeDtos: { tenant: DtoSpec; platform: DtoSpec };
  let tokens: {
    admin: string;
    tenantAdmin: string;
    reader: string;
    publisher: string;
    otherTenant: string;
    revoked: string;
    readerSession: string;
    adminSession: string;
    revokedSession: string;
    expiredSession: string;
  };
  let sessionDto: DtoSpec;
  const reports: Record<string, bad.GroupReport> = {};
  const started = Date.now();

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env);
    api = hub.api;
    receiver = await new TestReceiver().start();

    const a = await api.createTenant('Fuzz A');
    const b = await api.createTenant('Fuzz B');
    const reader = await api.createKey(a.tenantId, ['reader']);
    const publisher = await api.createKey(a.tenantId, ['publisher']);
    const victim = await api.createKey(a.tenantId, ['reader']);
    const revoked = await api.createKey(a.tenantId, ['admin']);
    expect((await api.request('DELETE', `/v1/api-keys/${revoked.id}`, { token: a.adminKey })).status).toBe(204);

    // Portal sessions (#14): the valid body of the DtoSpec makes the reader session; a revoked one and one that has expired.
    sessionDto = portalSessionDto(reader.id, [b.keyId, revoked.id, publisher.id]);
    const session = async (body: Record<string, unknown>) => {
      const res = await api.request<{ id: string; token: string }>('POST', `/v1/tenants/${a.tenantId}/portal-sessions`, { token: env.adminToken, body });
      if (res.status !== 201) throw new Error(`fixture portal session: ${res.status} ${res.text}`);
      return res.body;
    };
    const readerSession = await session(sessionDto.valid);
    const adminSession = await session({ api_key_id: a.keyId, role: 'admin' });
    const revokedSession = await session({ api_key_id: a.keyId, role: 'admin' });
    const expiredSession = await session({ api_key_id: a.keyId, role: 'admin', expires_in_ms: 1_000 });
    expect((await api.request('DELETE', `/v1/tenants/${a.tenantId}/portal-sessions/${revokedSession.id}`, { token: env.adminToken })).status).toBe(204);
    const expiresAt = Date.now() + 1_100;
    tokens = {
      admin: env.adminToken,
      tenantAdmin: a.adminKey,
      reader: reader.key,
      publisher: publisher.key,
      otherTenant: b.adminKey,
      revoked: revoked.key,
      readerSession: readerSession.token,
      adminSession: adminSession.token,
      revokedSession: revokedSession.token,
      expiredSession: expiredSession.token,
    };

    const s1 = await api.request<{ id: string }>('POST', '/v1/subscriptions', {
      token: a.adminKey,
      body: { url: `${receiver.url}/fuzz`, event_types: ['ticket.created'], secret: 'fuzz-secret-0123456789' },
    });
    const s2 = await api.request<{ id: string }>('POST', '/v1/subscriptions', { token: a.adminKey, body: { url: `${receiver.url}/off`, event_types: ['*'] } });
    expect([s1.status, s2.status]).toEqual([201, 201]);
    await api.request('POST', `/v1/subscriptions/${s2.body.id}/disable`, { token: a.adminKey });

    // Event types (#18). Every valid body of their DtoSpecs is sent once here, so each is known to be accepted.
    const accepted = async (method: string, path: string, token: string, body: unknown, status: number) => {
      const res = await api.request(method, path, { token, body });
      if (res.status !== status) throw new Error(`fixture ${method} ${path}: ${res.status} ${res.text}`);
    };
    const { own, platform } = TYPES;
    typeDtos = {
      tenant: createEventTypeDto(TYPES.tenantValid, [own, platform]),
      platform: createEventTypeDto(TYPES.platformValid, [own, TYPES.tenantValid, platform]),
    };
    await accepted('POST', '/v1/event-types', b.adminKey, typeDtos.tenant.valid, 201);
    await accepted('POST', '/v1/event-types', a.adminKey, { ...typeDtos.tenant.valid, ...own }, 201);
    await accepted('POST', '/v1/platform/event-types', env.adminToken, { ...typeDtos.platform.valid, ...platform }, 201);
    for (const [prefix, token, name] of [
      ['/v1/event-types', a.adminKey, own.name],
      ['/v1/platform/event-types', env.adminToken, platform.name],
    ]) {
      await accepted('POST', `${prefix}/${name}/versions`, token, versionDto.valid, 201);
      await accepted('PATCH', `${prefix}/${name}`, token, updateEventTypeDto.valid, 200);
      await accepted('PATCH', `${prefix}/${name}/versions/1`, token, updateVersionDto.valid, 200);
    }
    await accepted('PATCH', `/v1/subscriptions/${s2.body.id}`, a.adminKey, { schema_versions: { [own.name]: [1, 2], 'ticket.created': [1] } }, 200);

    for (const body of [
      { id: 'fuzz-evt-1', type: 'ticket.created', model_id: 't-1', model: { id: 't-1', subject: 'fixture' } },
      { id: 'fuzz-evt-2', type: 'message.created', model_id: 'm-1', model: { id: 'm-1', ticket_id: 't-1' } },
      { id: 'fuzz-evt-3', type: 'survey.response_completed', model_id: 'r-1', model: { id: 'r-1', survey_id: 's-1' } },
      { id: 'fuzz-evt-4', type: own.name, schema_version: 1, model_id: 'w-1', model: widget('w-1') },
    ]) {
      expect((await api.request('POST', '/v1/events', { token: publisher.key, body })).status).toBe(202);
    }
    let deliveryId = '';
    await eventually(async () => {
      const d = await api.request<{ items: Array<{ id: string; status: string }> }>('GET', `/v1/subscriptions/${s1.body.id}/deliveries`, { token: a.adminKey });
      expect(d.body.items.map((i) => i.status)).toEqual(['delivered']);
      deliveryId = d.body.items[0].id;
      for (const path of ['/v0/tickets/t-1', '/v0/tickets/t-1/messages/m-1', '/v0/surveys/s-1/responses/r-1', widgetPath('w-1')]) {
        expect((await api.request('GET', path, { token: reader.key })).status).toBe(200);
      }
    }, 15_000);

    const conn = await api.request<{ id: string }>('POST', '/v1/provider-connections', { token: a.adminKey, body: createConnectionDto.valid });
    expect(conn.status).toBe(201);
    const callbacks = hub.subscriptions.get(ProviderCallbackRepository);
    const callbackId = randomUUID();
    await callbacks.insertPending(
      {
        id: callbackId,
        connectionId: conn.body.id,
        tenantId: a.tenantId,
        provider: 'twilio_sms',
        digest: 'fuzz',
        method: 'POST',
        url: `/ingest/twilio_sms/${conn.body.id}`,
        headers: {},
        body: Buffer.from('x=1'),
        receivedAt: new Date(),
      },
      0,
    );
    await callbacks.markProcessed(callbackId, []);

    // The expired session has expired by now (the groups below take it as such).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now())));
    // Nothing runs in the background from here on: the dispatcher has done its part.
    for (const d of hub.dispatchers.splice(0)) await d.close();

    ids = {
      tenant: a.tenantId,
      subscription: s1.body.id,
      delivery: deliveryId,
      apiKey: victim.id,
      connection: conn.body.id,
      callback: callbackId,
      ticket: 't-1',
      message: 'm-1',
      survey: 's-1',
      response: 'r-1',
      eventType: own.name,
      platformType: platform.name,
      version: '1',
      widget: 'w-1',
      portalSession: adminSession.id,
    };
    existing = [
      ...Object.values(ids),
      b.tenantId,
      s2.body.id,
      a.keyId,
      b.keyId,
      reader.id,
      publisher.id,
      revoked.id,
      readerSession.id,
      revokedSession.id,
      expiredSession.id,
      'fuzz-evt-1',
      'fuzz-evt-2',
      'fuzz-evt-3',
      'fuzz-evt-4',
      ...Object.values(TYPES).map((t) => t.name),
      ...EVENT_TYPES,
      '2',
    ];
    // Ids of the kinds badIdSegment does not think of: types of others or of no one, versions that are no canonical number or that no type has.
    extraBadIds = {
      eventType: [TYPES.tenantValid.name, TYPES.platformValid.name, `${own.name}.x`, own.name.toUpperCase(), `${own.name}%20`, 'ticket', 'Ticket.created', '*'],
      platformType: [own.name, TYPES.tenantValid.name, TYPES.platformValid.name, `${platform.name}_x`, 'webhook', 'ticket.*'],
      version: ['0', '-1', '01', '001', '+1', '1.0', '1e0', '0x1', '3', '1000001', '2147483648', '99999999999999999999', '%201', '1%20', '%D9%A1'],
      widget: ['w-2', 'W-1', 'w-1%20', 'w-1.json', '%00'],
    };

    const admin = ['admin'];
    const readers = ['admin', 'reader'];
    const sub = '/v1/subscriptions/:subscription';
    const conns = '/v1/provider-connections';
    const types = '/v1/event-types/:eventType';
    const platformTypes = '/v1/platform/event-types/:platformType';
    routes = [
      { method: 'POST', pattern: '/v1/tenants', auth: 'admin-token', body: tenantDto },
      { method: 'GET', pattern: '/v1/tenants', auth: 'admin-token', query: listParams },
      { method: 'POST', pattern: '/v1/tenants/:tenant/api-keys', auth: 'admin-token', body: keyDto },
      { method: 'POST', pattern: '/v1/tenants/:tenant/portal-sessions', auth: 'admin-token', body: sessionDto },
      { method: 'GET', pattern: '/v1/tenants/:tenant/portal-sessions', auth: 'admin-token', query: listParams },
      { method: 'DELETE', pattern: '/v1/tenants/:tenant/portal-sessions/:portalSession', auth: 'admin-token' },
      { method: 'GET', pattern: '/v1/me', auth: 'api-key', roles: ['reader', 'publisher'] },
      { method: 'DELETE', pattern: '/v1/me/session', auth: 'api-key', roles: ['reader', 'publisher'] },
      { method: 'POST', pattern: '/v1/api-keys', auth: 'api-key', roles: admin, body: keyDto },
      { method: 'GET', pattern: '/v1/api-keys', auth: 'api-key', roles: admin, query: listParams },
      { method: 'DELETE', pattern: '/v1/api-keys/:apiKey', auth: 'api-key', roles: admin },
      { method: 'POST', pattern: '/v1/subscriptions', auth: 'api-key', roles: admin, body: createSubscriptionDto(receiver.url) },
      { method: 'GET', pattern: '/v1/subscriptions', auth: 'api-key', roles: readers, query: subscriptionParams },
      { method: 'GET', pattern: sub, auth: 'api-key', roles: readers },
      { method: 'PATCH', pattern: sub, auth: 'api-key', roles: admin, body: updateSubscriptionDto },
      { method: 'DELETE', pattern: sub, auth: 'api-key', roles: admin },
      { method: 'POST', pattern: `${sub}/rotate-secret`, auth: 'api-key', roles: admin, body: rotateDto },
      { method: 'POST', pattern: `${sub}/verify`, auth: 'api-key', roles: admin },
      { method: 'POST', pattern: `${sub}/test`, auth: 'api-key', roles: admin },
      { method: 'POST', pattern: `${sub}/replay`, auth: 'api-key', roles: admin, body: replayDto },
      { method: 'POST', pattern: `${sub}/enable`, auth: 'api-key', roles: admin },
      { method: 'POST', pattern: `${sub}/disable`, auth: 'api-key', roles: admin },
      { method: 'GET', pattern: `${sub}/deliveries`, auth: 'api-key', roles: readers, query: deliveryParams },
      { method: 'GET', pattern: `${sub}/health`, auth: 'api-key', roles: readers, query: [{ name: 'window', valid: oneOf(['hour', 'day']) }] },
      { method: 'GET', pattern: '/v1/deliveries/:delivery', auth: 'api-key', roles: readers },
      { method: 'POST', pattern: '/v1/deliveries/:delivery/retry', auth: 'api-key', roles: admin },
      { method: 'POST', pattern: '/v1/events', auth: 'api-key', roles: ['publisher'], body: eventDto(a.tenantId) },
      { method: 'GET', pattern: '/v1/event-types', auth: 'optional-api-key' },
      { method: 'GET', pattern: types, auth: 'optional-api-key' },
      { method: 'POST', pattern: '/v1/event-types', auth: 'api-key', roles: admin, body: typeDtos.tenant },
      { method: 'POST', pattern: `${types}/versions`, auth: 'api-key', roles: admin, body: versionDto },
      { method: 'PATCH', pattern: types, auth: 'api-key', roles: admin, body: updateEventTypeDto },
      { method: 'PATCH', pattern: `${types}/versions/:version`, auth: 'api-key', roles: admin, body: updateVersionDto },
      { method: 'POST', pattern: '/v1/platform/event-types', auth: 'admin-token', body: typeDtos.platform },
      { method: 'POST', pattern: `${platformTypes}/versions`, auth: 'admin-token', body: versionDto },
      { method: 'PATCH', pattern: platformTypes, auth: 'admin-token', body: updateEventTypeDto },
      { method: 'PATCH', pattern: `${platformTypes}/versions/:version`, auth: 'admin-token', body: updateVersionDto },
      { method: 'GET', pattern: widgetPath(':widget'), auth: 'api-key', roles: ['reader', 'publisher'] },
      { method: 'GET', pattern: '/v0/tickets/:ticket', auth: 'api-key', roles: ['reader', 'publisher'] },
      { method: 'GET', pattern: '/v0/tickets/:ticket/messages/:message', auth: 'api-key', roles: ['reader', 'publisher'] },
      { method: 'GET', pattern: '/v0/surveys/:survey/responses/:response', auth: 'api-key', roles: ['reader', 'publisher'] },
      { method: 'GET', pattern: '/v1/providers', auth: 'api-key', roles: readers },
      { method: 'POST', pattern: conns, auth: 'api-key', roles: admin, body: createConnectionDto },
      { method: 'GET', pattern: conns, auth: 'api-key', roles: readers, query: listParams },
      { method: 'GET', pattern: `${conns}/:connection`, auth: 'api-key', roles: readers },
      { method: 'PATCH', pattern: `${conns}/:connection`, auth: 'api-key', roles: admin, body: updateConnectionDto },
      { method: 'DELETE', pattern: `${conns}/:connection`, auth: 'api-key', roles: admin },
      { method: 'GET', pattern: `${conns}/:connection/callbacks`, auth: 'api-key', roles: readers, query: listParams },
      { method: 'GET', pattern: `${conns}/:connection/callbacks/:callback`, auth: 'api-key', roles: readers },
      { method: 'POST', pattern: `${conns}/:connection/callbacks/:callback/reprocess`, auth: 'api-key', roles: admin },
      { method: 'GET', pattern: '/docs', auth: 'public' },
      { method: 'GET', pattern: '/docs/swagger-ui-init.js', auth: 'public' },
      { method: 'GET', pattern: '/docs/swagger-ui.css', auth: 'public' },
      { method: 'GET', pattern: '/docs-json', auth: 'public' },
      { method: 'GET', pattern: '/docs-yaml', auth: 'public' },
      { method: 'GET', pattern: '/portal/', auth: 'public' },
      { method: 'GET', pattern: '/healthz', auth: 'public' },
      { method: 'GET', pattern: '/readyz', auth: 'public' },
    ];

    client = new bad.BadInputClient(api.baseUrl);
    probe = await bad.SideEffectProbe.open(env, { extra: () => `requests received by the test receiver: ${receiver.requests.length}` });
    initial = await probe.capture();
    // The probe watches every table; the event-type registry's must be among them.
    expect(Object.keys(initial.tables)).toEqual(expect.arrayContaining(['event_types', 'event_type_versions', 'events', 'subscriptions']));
    ctx = { client, probe, baseline: initial };
  });

  afterAll(async () => {
    try {
      if (probe && initial) await probe.expectUnchanged(initial, 'the whole run');
    } finally {
      bad.logGroupReports('subscriptions app', reports, started);
      await client?.close();
      await probe?.close();
      await hub?.close();
      await receiver?.stop();
      await env?.teardown();
    }
  });

  /* ------------------------------------------------------------ helpers */

  const protectedRoutes = () => routes.filter((r) => r.auth !== 'public');
  const validToken = (r: Route) =>
    r.auth === 'admin-token'
      ? tokens.admin
      : r.auth === 'api-key'
        ? r.roles?.includes('publisher') && !r.roles.includes('reader')
          ? tokens.publisher
          : tokens.tenantAdmin
        : r.auth === 'optional-api-key'
          ? tokens.reader
          : undefined;
  const paramsOf = (r: Route) => [...r.pattern.matchAll(/:(\w+)/g)].map((m) => m[1] as IdKind);
  const pathOf = (r: Route, override: Partial<Record<IdKind, string>> = {}) =>
    r.pattern.replace(/:(\w+)/g, (_, k: IdKind) => override[k] ?? encodeURIComponent(ids[k]));
  const noise = fc.record({ accept: fc.option(bad.oddAccept, { nil: undefined }), extra: bad.noiseHeaders });
  const withNoise = (headers: Record<string, string>, n: { accept?: string; extra: Record<string, string> }) => ({
    ...n.extra,
    ...(n.accept === undefined ? {} : { accept: n.accept }),
    ...headers,
  });
  const auth = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });
  const jsonBody = (r: Route): { headers: Record<string, string>; body?: string } =>
    r.body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(r.body.valid) } : { headers: {} };

  const run = async (group: keyof typeof RUNS, arb: fc.Arbitrary<bad.BadRequest>, check?: (req: bad.BadRequest, reply: bad.HttpReply) => void) => {
    reports[group] = await bad.assertEveryRequest(`subscriptions/${group}`, RUNS[group], arb, ctx, check);
  };
  const refusedWith =
    (...statuses: number[]) =>
    (req: bad.BadRequest, reply: bad.HttpReply) =>
      bad.expectRefused(req, reply, statuses);

  /* ------------------------------------------------------------- groups */

  it('refuses every protected route without valid credentials (401)', async () => {
    const cross = (r: Route) =>
      r.auth === 'admin-token'
        ? [tokens.tenantAdmin, tokens.reader, tokens.adminSession, tokens.readerSession]
        : [tokens.admin, tokens.revoked, `${tokens.tenantAdmin}=`, tokens.admin.toUpperCase(), tokens.revokedSession, tokens.expiredSession];
    const arb = fc
      .constantFrom(...protectedRoutes())
      .chain((r) =>
        fc.record({
          r: fc.constant(r),
          // Without any Authorization header, a route open to anonymous callers answers.
          authorization: fc
            .oneof(
              bad.badAuthorization(Object.values(tokens)),
              fc.constantFrom(...cross(r)).map((t) => `Bearer ${t}`),
            )
            .filter((a) => a !== undefined || r.auth !== 'optional-api-key'),
          n: noise,
        }),
      )
      .map(({ r, authorization, n }) => {
        const { headers, body } = jsonBody(r);
        return bad.request({
          method: r.method,
          path: pathOf(r),
          headers: withNoise({ ...headers, ...(authorization === undefined ? {} : { authorization }) }, n),
          body,
          why: `bad credentials for ${r.method} ${r.pattern}`,
        });
      });
    await run('auth', arb, refusedWith(401, 431));
  });

  it('refuses keys without the role (403) and keys of another tenant (404)', async () => {
    const cases: Array<{ r: Route; token: string; why: string; override?: Partial<Record<IdKind, string>> }> = [];
    for (const r of protectedRoutes().filter((x) => x.auth === 'api-key')) {
      if (!r.roles?.includes('reader')) cases.push({ r, token: tokens.reader, why: 'reader key' });
      if (!r.roles?.includes('publisher')) cases.push({ r, token: tokens.publisher, why: 'publisher key' });
      if (paramsOf(r).length > 0) cases.push({ r, token: tokens.otherTenant, why: "another tenant's admin key" });
      // A reader portal session only reads (signing out, which would end it, is its one other route); no session manages API keys.
      if (r.pattern !== '/v1/me/session' && (r.method !== 'GET' || !r.roles?.includes('reader')))
        cases.push({ r, token: tokens.readerSession, why: 'reader session' });
      if (r.pattern.startsWith('/v1/api-keys')) cases.push({ r, token: tokens.adminSession, why: 'admin session' });
    }
    // Only its owner changes an event type: a tenant neither a platform nor a built-in type, the platform no built-in type.
    for (const r of routes.filter((x) => x.method !== 'GET')) {
      if (paramsOf(r).includes('eventType')) {
        for (const name of [TYPES.platform.name, 'ticket.created', `${SYSTEM_EVENT_GROUP}.disabled`])
          cases.push({ r, token: tokens.tenantAdmin, why: `not the owner of ${name}`, override: { eventType: name } });
      }
      if (paramsOf(r).includes('platformType'))
        cases.push({ r, token: tokens.admin, why: 'not the owner of ticket.created', override: { platformType: 'ticket.created' } });
    }
    const arb = fc.tuple(fc.constantFrom(...cases), noise).map(([c, n]) => {
      const { headers, body } = jsonBody(c.r);
      return bad.request({
        method: c.r.method,
        path: pathOf(c.r, c.override),
        headers: withNoise({ ...headers, ...auth(c.token) }, n),
        body,
        why: `${c.why} for ${c.r.method} ${c.r.pattern}`,
      });
    });
    await run('roles', arb, (req, reply) => bad.expectRefused(req, reply, [req.why.startsWith('another') ? 404 : 403]));
  });

  it('refuses bodies that are not well-formed JSON at every route (400, 413, 415)', async () => {
    const arb = fc
      .constantFrom(...routes)
      .chain((r) => fc.tuple(fc.constant(r), bad.brokenBody(JSON.stringify(r.body?.valid ?? {}), LIMIT, { maxDepth: MAX_DEPTH }), noise))
      .map(([r, b, n]) =>
        bad.request({
          method: r.method,
          path: pathOf(r),
          headers: withNoise({ ...b.headers, ...auth(validToken(r)) }, n),
          body: b.body,
          why: `${b.why} for ${r.method} ${r.pattern}`,
        }),
      );
    await run('bodies', arb, refusedWith(400, 413, 415));
  });

  it('refuses invalid fields, missing fields, unknown fields and wrong shapes in every request body', async () => {
    const bodyRoutes = routes.filter((r) => r.body);
    const mutation = (spec: DtoSpec): fc.Arbitrary<{ value: unknown; why: string }> => {
      const fields = Object.keys(spec.invalid);
      type Mutation = fc.Arbitrary<{ value: unknown; why: string }>;
      const oneField: Mutation = fc
        .constantFrom(...fields)
        .chain((k) => spec.invalid[k].map((v) => ({ value: { ...spec.valid, [k]: v }, why: `invalid ${k}` })));
      const someFields: Mutation = fc
        .record(spec.invalid, { requiredKeys: [] })
        .filter((o) => Object.keys(o).length > 1)
        .map((o) => ({ value: { ...spec.valid, ...o }, why: `invalid ${Object.keys(o).join(', ')}` }));
      // Several invalid fields at once need two fields to choose from (the filter above would never pass otherwise).
      const setFields = fields.length > 1 ? fc.oneof({ weight: 3, arbitrary: oneField }, { weight: 1, arbitrary: someFields }) : oneField;
      const known = [...fields, ...Object.keys(spec.valid)];
      const unknown: Mutation = fc
        .tuple(fc.uniqueArray(bad.unknownKey(known), { minLength: 1, maxLength: 3 }), fc.array(bad.anyJson, { minLength: 3, maxLength: 3 }))
        .map(([keys, values]) => ({
          value: { ...spec.valid, ...Object.fromEntries(keys.map((k, i) => [k, values[i]])) },
          why: `unknown field ${keys.map((k) => JSON.stringify(k)).join(', ')}`,
        }));
      const arbs: Mutation[] = [setFields, setFields, setFields, setFields, unknown, unknown];
      if (spec.required.length) {
        arbs.push(
          fc
            .constantFrom(...spec.required)
            .map((k) => ({ value: Object.fromEntries(Object.entries(spec.valid).filter(([f]) => f !== k)), why: `missing ${k}` })),
        );
      }
      arbs.push(fc.array(bad.anyJson, { maxLength: 3 }).map((value) => ({ value, why: 'an array instead of an object' })));
      arbs.push(
        fc.tuple(fc.dictionary(fc.string(), bad.anyJson), bad.unknownKey(known)).map(([o, k]) => ({ value: { ...o, [k]: 1 }, why: 'a random object' })),
      );
      // Keys the validation pipe strips must not pollute anything, or hide an invalid field.
      arbs.push(
        fc.tuple(fc.oneof(setFields, unknown), fc.constantFrom('__proto__', 'constructor', 'prototype'), bad.anyJson).map(([m, k, v]) => ({
          value: JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'},${JSON.stringify(m.value).slice(1)}`) as unknown,
          why: `${m.why}, with ${k}`,
        })),
      );
      return fc.oneof(...arbs);
    };
    // Publishing and subscribing matter most: their routes get more runs; so do a tenant's event types and versions (schemas, examples;
    // the platform's go through the same checks).
    const weight = (r: Route) =>
      r.pattern === '/v1/events' ? 4 : r.pattern.startsWith('/v1/subscriptions') || (r.method === 'POST' && r.pattern.startsWith('/v1/event-types')) ? 2 : 1;
    const arb = fc
      .oneof(...bodyRoutes.map((r) => ({ weight: weight(r), arbitrary: fc.constant(r) })))
      .chain((r) => fc.tuple(fc.constant(r), mutation(r.body!), noise))
      .map(([r, m, n]) =>
        bad.request({
          method: r.method,
          path: pathOf(r),
          headers: withNoise({ 'content-type': 'application/json', ...auth(validToken(r)) }, n),
          body: JSON.stringify(m.value),
          why: `${m.why} for ${r.method} ${r.pattern}`,
        }),
      );
    await run('dtos', arb);
  });

  it('refuses invalid, unknown and repeated query parameters on every list route (400)', async () => {
    const listRoutes = routes.filter((r) => r.query);
    const arb = fc
      .constantFrom(...listRoutes)
      .chain((r) => fc.tuple(fc.constant(r), bad.invalidQuery(r.query!), noise))
      .map(([r, q, n]) =>
        bad.request({ method: r.method, path: `${pathOf(r)}?${q}`, headers: withNoise(auth(validToken(r)), n), why: `invalid query for ${r.pattern}` }),
      );
    await run('queries', arb, refusedWith(400, 431));
  });

  it('refuses ids that name nothing in every path (400, 404)', async () => {
    const idRoutes = routes.filter((r) => paramsOf(r).length > 0);
    const arb = fc
      .constantFrom(...idRoutes)
      .chain((r) => fc.tuple(fc.constant(r), fc.constantFrom(...paramsOf(r))))
      .chain(([r, param]) => {
        const extra = extraBadIds[param];
        const segment = extra
          ? fc.oneof({ weight: 3, arbitrary: bad.badIdSegment(existing) }, { weight: 2, arbitrary: fc.constantFrom(...extra) })
          : bad.badIdSegment(existing);
        return fc.tuple(fc.constant(r), fc.constant(param), segment, noise);
      })
      .map(([r, param, segment, n]) => {
        const { headers, body } = jsonBody(r);
        return bad.request({
          method: r.method,
          path: pathOf(r, { [param]: segment }),
          headers: withNoise({ ...headers, ...auth(validToken(r)) }, n),
          body,
          why: `bad ${param} id for ${r.method} ${r.pattern}`,
        });
      });
    await run('ids', arb, refusedWith(400, 404, 431));
  });

  it('refuses unknown routes and methods (4xx)', async () => {
    const METHODS = [
      'GET',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'OPTIONS',
      'TRACE',
      'PROPFIND',
      'MKCOL',
      'COPY',
      'MOVE',
      'LOCK',
      'PURGE',
      'SEARCH',
      'REPORT',
      'LINK',
      'M-SEARCH',
      'NOTIFY',
      'QUERY',
      'FOO',
      'get',
      'Post',
    ];
    const defined = new Set(routes.flatMap((r) => [`${r.method} ${r.pattern}`, ...(r.method === 'GET' ? [`HEAD ${r.pattern}`] : [])]));
    const wrongMethod = fc
      .tuple(fc.constantFrom(...routes), fc.constantFrom(...METHODS))
      .filter(([r, m]) => !defined.has(`${m} ${r.pattern}`) && !(m.toUpperCase() === 'HEAD'))
      .map(([r, m]) => ({ method: m, r, path: pathOf(r), why: `${m} on ${r.pattern}` }));
    const segment = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.~%'.split('')), minLength: 1, maxLength: 12 });
    const extraSegment = fc
      .tuple(fc.constantFrom(...routes.filter((r) => !r.pattern.startsWith('/docs'))), segment)
      .map(([r, s]) => ({ method: r.method, r, path: `${pathOf(r)}/x-${s}`, why: `extra segment after ${r.pattern}` }));
    const unknownTop = fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom(...routes))
      .filter(([segs]) => !['v1', 'v0', 'docs', 'docs-json', 'healthz', 'readyz', 'portal'].includes((bad.decodedSegment(segs[0]) ?? '').toLowerCase()))
      .map(([segs, r]) => ({ method: r.method, r, path: `/${segs.join('/')}`, why: 'unknown path' }));
    // GET /v0/<any path> serves the resource types declare (#18): a path none declares is a 404.
    const resourceRoute = routes.find((r) => r.pattern === widgetPath(':widget'))!;
    const declared = ['tickets', 'messages', 'surveys', ...Object.values(TYPES).map((t) => t.resource_path.split('/')[2])];
    const undeclaredResource = fc
      .oneof(
        fc.array(segment, { minLength: 1, maxLength: 5 }).filter((segs) => !declared.includes((bad.decodedSegment(segs[0]) ?? '').toLowerCase())),
        fc.tuple(fc.constantFrom(...Object.values(TYPES).map((t) => t.resource_path.split('/').slice(2, -1))), segment).map(([c, s]) => [...c.slice(0, -1), s]),
        fc.constantFrom([''], ['tickets'], [TYPES.own.resource_path.split('/')[2]], ['widgets', 'w-1']),
      )
      .map((segs) => ({ method: 'GET', r: resourceRoute, path: `/v0/${segs.join('/')}`, why: 'a /v0 path no event type declares' }));
    const arb = fc.tuple(fc.oneof(wrongMethod, extraSegment, unknownTop, undeclaredResource), noise).map(([c, n]) => {
      const { headers, body } = jsonBody(c.r);
      return bad.request({
        method: c.method,
        path: c.path,
        headers: withNoise({ ...headers, ...auth(validToken(c.r)) }, n),
        body: c.method === 'GET' || c.method === 'get' ? undefined : body,
        why: c.why,
      });
    });
    await run('routes', arb);
  });

  it('refuses broken HTTP/1.1 framing, even with valid credentials on routes that change things', async () => {
    const targets = routes.filter((r) => r.method !== 'GET');
    const arb = fc
      .constantFrom(...targets)
      .chain((r) =>
        bad
          .rawFramingAttack(r.method, pathOf(r), { ...auth(validToken(r)), 'Content-Type': 'application/json' })
          .map((attack) => ({ ...attack, why: `${attack.why}, ${r.method} ${r.pattern}` })),
      );
    reports.framing = await bad.assertEveryRawRequest('subscriptions/framing', RUNS.framing, arb, ctx);
  });

  it('never answers GET noise (any query, id, accept value or header) with a server error', async () => {
    const gets = routes.filter((r) => r.method === 'GET');
    const arb = fc
      .constantFrom(...gets)
      .chain((r) =>
        fc.record({
          r: fc.constant(r),
          method: fc.constantFrom('GET', 'GET', 'HEAD'),
          query: r.query ? bad.anyQuery(r.query) : fc.option(bad.anyQuery([]), { nil: undefined }),
          ids: fc.record(
            Object.fromEntries(paramsOf(r).map((p) => [p, fc.oneof(fc.constant(encodeURIComponent(ids[p])), bad.badIdSegment(existing))])),
          ) as fc.Arbitrary<Partial<Record<IdKind, string>>>,
          n: noise,
        }),
      )
      .map(({ r, method, query, ids: override, n }) =>
        bad.request({
          method,
          path: `${pathOf(r, override)}${query ? `?${query}` : ''}`,
          headers: withNoise(auth(validToken(r)), n),
          why: `noise: ${method} ${r.pattern}`,
        }),
      );
    await run('noise', arb, bad.expectNoServerError);
  });

  it('serves no file outside the documentation and portal assets, whatever the path (no 5xx)', async () => {
    const traversal = fc.constantFrom(
      '..',
      '%2e%2e',
      '%2E%2E',
      '..%2f..',
      '..%5c..',
      '%2e%2e%2f%2e%2e',
      '....',
      '.%2e',
      '%252e%252e',
      '..;',
      '%c0%ae%c0%ae',
      '..%00',
    );
    const target = fc.constantFrom(
      'package.json',
      'etc/passwd',
      '.env.development',
      'tsconfig.json',
      'dist/apps/subscriptions/main.js',
      'node_modules/express/package.json',
    );
    const root = fc.constantFrom('/docs', '/portal', '/portal/assets');
    const path = fc.oneof(
      fc.tuple(root, fc.array(traversal, { minLength: 1, maxLength: 8 }), target).map(([r, up, t]) => `${r}/${up.join('/')}/${t}`),
      fc.tuple(fc.constantFrom('/portal/assets', '/portal'), traversal, fc.nat(8), target).map(([r, up, n, t]) => `${r}/${`${up}%2f`.repeat(n + 1)}${t}`),
      fc.tuple(traversal, fc.nat(8), target).map(([up, n, t]) => `/docs/${`${up}%2f`.repeat(n + 1)}${t}`),
      bad.badIdSegment([]).map((s) => `/docs/${s}`),
      fc.constantFrom(
        '/docs/',
        '/docs//',
        '/docs/.',
        '/docs/index.html',
        '/docs/swagger-ui-bundle.js',
        '/docs/.env',
        '/docs/%00',
        '/docs/swagger-ui.css%00.json',
        '/docs/docs/swagger-ui-init.js',
        '/portal/index.html',
        '/portal/assets/',
        '/portal/assets/.',
        '/portal/assets/index.html',
        '/portal/assets/..',
        '/portal/assets/x.js%00.css',
        '/portal//assets/x.js',
        '/portal/%2e%2e/package.json',
      ),
    );
    const arb = fc
      .tuple(path, fc.constantFrom('GET', 'HEAD'), noise)
      .map(([p, method, n]) => bad.request({ method, path: p, headers: withNoise({}, n), why: `noise: static ${method}` }));
    await run('static', arb, (req, reply) => {
      bad.expectNoServerError(req, reply);
      const text = reply.body.toString('utf8');
      if (/"name":\s*"hookhub"|root:x:0:0|SECRETS_ENCRYPTION_KEY|"compilerOptions"|"name":\s*"express"/.test(text))
        throw new Error(`served a file outside the assets: ${bad.describeRequest(req)}`);
    });
  });
});
