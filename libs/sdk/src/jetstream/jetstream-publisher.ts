import { randomUUID } from 'node:crypto';
import { ErrorCode, headers as natsHeaders, NatsError, type JetStreamClient, type NatsConnection } from 'nats';
import { EventTypeCatalogue } from '../catalogue';
import { HookhubClient } from '../client';
import { HookhubValidationError } from '../errors';
import { serializeEnvelope, type EventEnvelope } from '../envelope';

/** The header that names the schema version an event was validated against. */
export const SCHEMA_VERSION_HEADER = 'Hookhub-Schema-Version';

/** An event as a trusted service publishes it: the envelope less what the publisher fills in. */
export interface DirectPublishInput {
  /** Unique per tenant (1–128 letters, digits, `. _ : -`); a UUID when omitted. The message id is `<tenant>:<id>`. */
  id?: string;
  type: string;
  /** ISO-8601; now when omitted. */
  created_at?: string;
  data?: Record<string, unknown>;
  actor_type?: string | null;
  actor_id?: string | null;
  actor_name?: string | null;
  /** Implied by the type when omitted. */
  model_type?: string;
  model_id: string;
  /** Snapshot of the resource; null only for deletions. Its `id` must be `model_id`. */
  model?: (Record<string, unknown> & { id: string }) | null;
}

export interface DirectPublishOptions {
  /** The schema version to validate against and announce (default: the type's latest). */
  schemaVersion?: number;
  /**
   * More NATS headers for the message: e.g. the W3C `traceparent` of your span, which the hub's dispatcher
   * spans (tracing on) and the webhooks' `traceparent` continue. They cannot replace the ones the hub reads
   * (`Content-Type`, `Hookhub-Schema-Version`, the message id).
   */
  headers?: Record<string, string>;
}

export interface DirectPublishReceipt {
  id: string;
  subject: string;
  stream: string;
  seq: number;
  /** True when JetStream had this message id already and stored nothing new. */
  duplicate: boolean;
  schemaVersion: number;
  /** The version (or the type) is deprecated in the catalogue: move to a newer one. */
  deprecated: boolean;
}

/** A message ready to publish: what `publish` sends, for inspection. */
export interface PreparedEvent {
  subject: string;
  msgId: string;
  headers: Record<string, string>;
  envelope: EventEnvelope;
  /** The envelope as sent, fields in the hub's wire order. */
  payload: string;
  schemaVersion: number;
  deprecated: boolean;
}

export interface JetStreamPublisherOptions {
  /** A NATS connection to the hub's JetStream; the caller owns it (and closes it). */
  connection: NatsConnection;
  /** The tenant the events belong to (their `account_id`). */
  tenantId: string;
  /**
   * Where the event-type catalogue comes from: a `HookhubClient` holding the
   * tenant's API key, `{ baseUrl, apiKey }` to make one, or a catalogue to share.
   */
  catalogue: EventTypeCatalogue | HookhubClient | { baseUrl: string; apiKey: string };
  /** The hub's `JETSTREAM_PREFIX` (default `hookhub`). */
  prefix?: string;
  /** The tenant's `account_url`, carried in every envelope (default empty, as the hub's default). */
  accountUrl?: string;
  /** How long one try waits for JetStream's ack (default 5,000 ms). */
  ackTimeoutMs?: number;
  /** Tries after the first when the ack does not come (same message id, so de-duplicated; default 2). */
  retries?: number;
}

const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A subject token: no separators, wildcards or white space. */
const SUBJECT_TOKEN = /^[^\s.*>]+$/;
const encoder = new TextEncoder();

/** Failures a later try with the same message id can get past: the ack lost, or the stream's leader moving. */
function worthRetrying(err: unknown): boolean {
  return err instanceof NatsError && [ErrorCode.Timeout, ErrorCode.NoResponders, ErrorCode.Disconnect].includes(err.code as ErrorCode);
}

/** The hub's `created_at`: ISO-8601 in UTC, without milliseconds when they are zero. */
function createdAt(value: string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  const time = Date.parse(value);
  if (Number.isNaN(time))
    throw new HookhubValidationError(`created_at '${value}' is not an ISO-8601 date`, [{ pointer: '#/created_at', detail: 'must be an ISO-8601 date-time' }]);
  return new Date(time).toISOString().replace('.000Z', 'Z');
}

/**
 * Publishes events straight to the hub's JetStream stream, for trusted
 * services on the hub's NATS: no HTTP hop. Each event is completed into the
 * hub's envelope (wire field order), validated against its type's schema in
 * the catalogue (`GET /v1/event-types`) and published on
 * `<prefix>.events.<tenant>.<type>` with `Nats-Msg-Id: <tenant>:<id>`, so a
 * repeated id is stored once, and `Hookhub-Schema-Version`.
 */
export class HookhubJetStreamPublisher {
  private readonly js: JetStreamClient;
  private readonly catalogue: EventTypeCatalogue;
  private readonly prefix: string;

  constructor(private readonly options: JetStreamPublisherOptions) {
    if (!SUBJECT_TOKEN.test(options.tenantId)) throw new TypeError(`tenantId '${options.tenantId}' cannot be a NATS subject token`);
    this.prefix = options.prefix ?? 'hookhub';
    this.js = options.connection.jetstream();
    const source = options.catalogue;
    this.catalogue =
      source instanceof EventTypeCatalogue
        ? source
        : EventTypeCatalogue.fromClient(source instanceof HookhubClient ? source : new HookhubClient({ baseUrl: source.baseUrl, apiKey: source.apiKey }));
  }

  /** The envelope, subject and headers `publish` would send, validated; nothing is published. */
  async prepare(event: DirectPublishInput, options: DirectPublishOptions = {}): Promise<PreparedEvent> {
    if (typeof event.type !== 'string' || !event.type.split('.').every((t) => SUBJECT_TOKEN.test(t))) {
      throw new HookhubValidationError(`event type '${String(event.type)}' is not a valid type`, [{ pointer: '#/type', detail: 'is not a valid event type' }]);
    }
    const resolved = await this.catalogue.resolve(event.type, options.schemaVersion);
    const envelope: EventEnvelope = {
      id: event.id ?? randomUUID(),
      account_id: this.options.tenantId,
      account_url: this.options.accountUrl ?? '',
      created_at: createdAt(event.created_at),
      type: event.type,
      data: event.data ?? {},
      actor_type: event.actor_type ?? null,
      actor_id: event.actor_id ?? null,
      actor_name: event.actor_name ?? null,
      model_type: event.model_type ?? resolved.modelType,
      model_id: event.model_id,
      model: event.model ?? null,
    };
    const problems = resolved.validate(envelope);
    // The hub's own rule beyond the schema: the snapshot is of the resource the event names.
    if (problems.length === 0 && envelope.model && envelope.model.id !== envelope.model_id)
      problems.push({ pointer: '#/model/id', detail: 'must equal model_id' });
    if (problems.length === 0 && !EVENT_ID.test(envelope.id)) problems.push({ pointer: '#/id', detail: 'must be 1-128 letters, digits, or . _ : -' });
    if (problems.length > 0) {
      throw new HookhubValidationError(
        `the event does not match the schema of ${event.type} v${resolved.version}: ${problems.map((p) => `${p.pointer} ${p.detail}`).join('; ')}`,
        problems,
      );
    }
    return {
      subject: `${this.prefix}.events.${this.options.tenantId}.${event.type}`,
      msgId: `${this.options.tenantId}:${envelope.id}`,
      headers: { 'Content-Type': 'application/json', [SCHEMA_VERSION_HEADER]: String(resolved.version) },
      envelope,
      payload: serializeEnvelope(envelope),
      schemaVersion: resolved.version,
      deprecated: resolved.deprecated,
    };
  }

  /**
   * Validates and publishes an event; resolves once JetStream stored it (or
   * had it already: `duplicate`). Throws `HookhubValidationError`, before
   * publishing anything, when the event breaks its type's schema.
   */
  async publish(event: DirectPublishInput, options: DirectPublishOptions = {}): Promise<DirectPublishReceipt> {
    const prepared = await this.prepare(event, options);
    const h = natsHeaders();
    for (const [name, value] of Object.entries({ ...options.headers, ...prepared.headers })) h.set(name, value);
    const data = encoder.encode(prepared.payload);
    const retries = this.options.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.js.publish(prepared.subject, data, { msgID: prepared.msgId, headers: h, timeout: this.options.ackTimeoutMs ?? 5_000 });
        return {
          id: prepared.envelope.id,
          subject: prepared.subject,
          stream: ack.stream,
          seq: ack.seq,
          duplicate: ack.duplicate,
          schemaVersion: prepared.schemaVersion,
          deprecated: prepared.deprecated,
        };
      } catch (err) {
        if (attempt >= retries || !worthRetrying(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }
}
