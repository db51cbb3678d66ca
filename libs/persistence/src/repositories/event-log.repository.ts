import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { ChangeStatus } from '@hookhub/contracts';
import { EventEntity } from '../entities/event.entity';
import { SnapshotEntity } from '../entities/snapshot.entity';
import { preparedQuery, returnedRows } from './sql';

export interface ResourceKey {
  tenantId: string;
  modelType: string;
  modelId: string;
}

export interface LockedSnapshot extends ResourceKey {
  version: number;
  sourceCreatedAt: Date | null;
  deleted: boolean;
}

export interface NewEventRow extends ResourceKey {
  id: string;
  type: string;
  version: number;
  changeStatus: string;
  /** The canonical JSON text of the envelope. */
  envelope: string;
  /** The version of its type's schema the event was published in (it travels beside the envelope). */
  schemaVersion: number;
  createdAt: Date;
}

export interface SnapshotWrite extends ResourceKey {
  version: number;
  /**
   * The event (appended by the same `appendEvents`) whose model becomes the
   * snapshot's: the model is read from the log row rather than sent twice.
   * `null`: no model (a deletion). `undefined`: keep the stored model and its
   * `sourceCreatedAt` (an older event arrived late).
   */
  modelEventId?: string | null;
  deleted: boolean;
  lastEventId: string;
  sourceCreatedAt: Date | null;
}

/** A JSON array of JSON texts, built without re-serialising them. */
const jsonArray = (texts: string[]): string => `[${texts.join(',')}]`;

interface LockRow {
  tenant_id: string;
  model_type: string | null;
  model_id: string | null;
  version: number | null;
  source_created_at: Date | null;
  deleted_at: Date | null;
  event_id: string | null;
  change_status: ChangeStatus | null;
}

const keyOf = (k: ResourceKey): string => `${k.tenantId}\u0000${k.modelType}\u0000${k.modelId}`;

/**
 * The order every transaction locks snapshot rows in: tickets first, then the
 * rest by key. A ticket's deletion purges its messages while holding the
 * ticket's row, and whoever records a message locks its ticket too: taking
 * the ticket first on both sides means they queue instead of deadlocking.
 */
const lockRank = (k: ResourceKey): string => `${k.modelType === 'ticket' ? 0 : 1}\u0000${keyOf(k)}`;
const LOCK_ORDER_SQL = `(s.model_type <> 'ticket'), s.tenant_id, s.model_type, s.model_id`;

/**
 * SQL of the event log and snapshots, in bulk: one statement per step for a
 * whole batch of events, inside the caller's transaction.
 */
@Injectable()
export class EventLogRepository {
  constructor(
    @InjectRepository(EventEntity) private readonly events: Repository<EventEntity>,
    @InjectRepository(SnapshotEntity) private readonly snapshots: Repository<SnapshotEntity>,
  ) {}

  static key = keyOf;

  /**
   * Locks the snapshot rows of these resources (creating empty ones), in a
   * fixed order so concurrent batches cannot deadlock, and reports which of
   * these events are in the log already, with the change status recorded for
   * each (`<tenant>:<event id>` → status): two round trips, the second under the locks. Versions, and with
   * them which event created a resource, are decided under this lock, so they
   * never collide or skip, whichever pod records first.
   */
  async lockForRecording(
    m: EntityManager,
    keys: ResourceKey[],
    events: Array<{ tenantId: string; id: string }>,
  ): Promise<{ locked: Map<string, LockedSnapshot>; recorded: Map<string, ChangeStatus> }> {
    const sorted = [...new Map(keys.map((k) => [keyOf(k), k])).values()].sort((a, b) => (lockRank(a) < lockRank(b) ? -1 : 1));
    const cols = [sorted.map((k) => k.tenantId), sorted.map((k) => k.modelType), sorted.map((k) => k.modelId)];
    // Rows this statement creates come back from RETURNING, the others from the locking read (whose
    // snapshot predates the insert). A row another transaction created meanwhile is in neither: it is
    // locked by a second statement below, which sees it once that transaction has committed.
    const rows = await preparedQuery<LockRow>(
      m,
      'hookhub_lock_for_recording',
      `WITH k AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS k(tenant_id, model_type, model_id, ord)
       ), created AS (
         INSERT INTO snapshots (tenant_id, model_type, model_id)
         SELECT tenant_id, model_type, model_id FROM k ORDER BY ord
         ON CONFLICT DO NOTHING
         RETURNING tenant_id, model_type, model_id, version, source_created_at, deleted_at
       ), existing AS (
         SELECT s.tenant_id, s.model_type, s.model_id, s.version, s.source_created_at, s.deleted_at FROM snapshots s
          WHERE (s.tenant_id, s.model_type, s.model_id) IN (SELECT tenant_id, model_type, model_id FROM k)
          ORDER BY ${LOCK_ORDER_SQL}
          FOR UPDATE
       )
       SELECT tenant_id, model_type, model_id, version, source_created_at, deleted_at, NULL::text AS event_id, NULL::text AS change_status FROM created
       UNION ALL
       SELECT tenant_id, model_type, model_id, version, source_created_at, deleted_at, NULL, NULL FROM existing`,
      cols,
    );
    const locked = new Map<string, LockedSnapshot>();
    const recorded = new Map<string, ChangeStatus>();
    const add = (r: LockRow): void => {
      if (r.event_id !== null) {
        recorded.set(`${r.tenant_id}:${r.event_id}`, r.change_status!);
        return;
      }
      const k = { tenantId: r.tenant_id, modelType: r.model_type!, modelId: r.model_id! };
      locked.set(keyOf(k), { ...k, version: r.version!, sourceCreatedAt: r.source_created_at, deleted: r.deleted_at !== null });
    };
    rows.forEach(add);
    const missing = sorted.filter((k) => !locked.has(keyOf(k)));
    if (missing.length > 0) {
      const late: LockRow[] = await m.query(
        `SELECT tenant_id, model_type, model_id, version, source_created_at, deleted_at, NULL AS event_id, NULL AS change_status FROM snapshots s
          WHERE (tenant_id, model_type, model_id) IN (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]))
          ORDER BY ${LOCK_ORDER_SQL}
          FOR UPDATE`,
        [missing.map((k) => k.tenantId), missing.map((k) => k.modelType), missing.map((k) => k.modelId)],
      );
      late.forEach(add);
    }
    // Which events are logged already is read only now, under the locks: a statement sees what was
    // committed before it began, and the one above may have waited for another batch with the same
    // event. No unique index spans the partitions of the log to catch it later.
    const logged = await preparedQuery<LockRow>(
      m,
      'hookhub_recorded_events',
      `SELECT tenant_id, NULL AS model_type, NULL AS model_id, NULL AS version, NULL AS source_created_at, NULL AS deleted_at,
              id AS event_id, change_status FROM events
        WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
      [events.map((e) => e.tenantId), events.map((e) => e.id)],
    );
    logged.forEach(add);
    return { locked, recorded };
  }

  /**
   * Locks the snapshot rows of these events' resources, in the recorder's
   * order: whoever else records or fans out one of these events waits.
   */
  async lockResourcesOfEvents(m: EntityManager, events: Array<{ tenantId: string; id: string }>): Promise<void> {
    if (events.length === 0) return;
    await m.query(
      `SELECT 1 FROM snapshots s
        WHERE (s.tenant_id, s.model_type, s.model_id) IN (
          SELECT e.tenant_id, e.model_type, e.model_id FROM events e WHERE (e.tenant_id, e.id) IN (SELECT * FROM unnest($1::uuid[], $2::text[])))
        ORDER BY ${LOCK_ORDER_SQL}
        FOR UPDATE`,
      [events.map((e) => e.tenantId), events.map((e) => e.id)],
    );
  }

  /**
   * Appends events to the log and writes the snapshots they lead to, in one
   * statement. The envelopes are JSON texts already: joined into one JSON
   * array they need no escaping (a text[] parameter would escape every quote
   * of every envelope), and `json` keeps their bytes. A snapshot's model is
   * taken from the logged envelope of its `modelEventId` rather than sent twice.
   */
  async appendEvents(m: EntityManager, rows: NewEventRow[], writes: SnapshotWrite[]): Promise<void> {
    if (rows.length === 0 && writes.length === 0) return;
    await preparedQuery(
      m,
      'hookhub_append_events',
      `WITH ev AS (
         INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at, schema_version)
         SELECT u.tenant_id, u.id, u.type, u.model_type, u.model_id, u.version, u.change_status, j.envelope, u.created_at, u.schema_version
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $9::timestamptz[], $19::int[]) WITH ORDINALITY
             AS u(tenant_id, id, type, model_type, model_id, version, change_status, created_at, schema_version, ord)
           JOIN json_array_elements($8::json) WITH ORDINALITY AS j(envelope, ord) ON j.ord = u.ord
         RETURNING tenant_id, id, envelope
       )
       UPDATE snapshots s SET
         version = w.version,
         model = CASE
           WHEN w.deleted THEN NULL
           WHEN w.apply THEN CASE WHEN json_typeof(ev.envelope->'model') = 'null' THEN NULL ELSE ev.envelope->'model' END
           ELSE s.model END,
         deleted_at = CASE WHEN w.deleted THEN COALESCE(s.deleted_at, now()) ELSE s.deleted_at END,
         last_event_id = w.last_event_id,
         source_created_at = CASE WHEN w.apply THEN w.source_created_at ELSE s.source_created_at END,
         updated_at = now()
       FROM unnest($10::uuid[], $11::text[], $12::text[], $13::int[], $14::text[], $15::bool[], $16::bool[], $17::text[], $18::timestamptz[])
         AS w(tenant_id, model_type, model_id, version, model_event_id, apply, deleted, last_event_id, source_created_at)
       LEFT JOIN ev ON ev.tenant_id = w.tenant_id AND ev.id = w.model_event_id
       WHERE s.tenant_id = w.tenant_id AND s.model_type = w.model_type AND s.model_id = w.model_id`,
      [
        rows.map((r) => r.tenantId),
        rows.map((r) => r.id),
        rows.map((r) => r.type),
        rows.map((r) => r.modelType),
        rows.map((r) => r.modelId),
        rows.map((r) => r.version),
        rows.map((r) => r.changeStatus),
        jsonArray(rows.map((r) => r.envelope)),
        rows.map((r) => r.createdAt),
        writes.map((w) => w.tenantId),
        writes.map((w) => w.modelType),
        writes.map((w) => w.modelId),
        writes.map((w) => w.version),
        writes.map((w) => w.modelEventId ?? null),
        writes.map((w) => w.modelEventId !== undefined),
        writes.map((w) => w.deleted),
        writes.map((w) => w.lastEventId),
        writes.map((w) => w.sourceCreatedAt),
        rows.map((r) => r.schemaVersion),
      ],
    );
  }

  /** A deletion removes the resource's model from every logged event too: sensitive data must go. */
  async scrubModels(m: EntityManager, keys: ResourceKey[]): Promise<void> {
    if (keys.length === 0) return;
    await m.query(
      `UPDATE events SET envelope = json_build_object(
         'id', envelope->'id', 'account_id', envelope->'account_id', 'account_url', envelope->'account_url',
         'created_at', envelope->'created_at', 'type', envelope->'type', 'data', envelope->'data',
         'actor_type', envelope->'actor_type', 'actor_id', envelope->'actor_id', 'actor_name', envelope->'actor_name',
         'model_type', envelope->'model_type', 'model_id', envelope->'model_id', 'model', NULL)
       WHERE (tenant_id, model_type, model_id) IN (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]))
         AND (envelope->'model')::text <> 'null'`,
      [keys.map((k) => k.tenantId), keys.map((k) => k.modelType), keys.map((k) => k.modelId)],
    );
  }

  /**
   * Deletes the messages of these (just deleted) tickets with them: each
   * snapshot loses its model and answers 410, and `scrubModels` must then
   * erase their logged models. The caller holds the tickets' rows, and
   * whoever records a message locks its ticket first, so no message of these
   * tickets can appear alive after this runs. Returns the messages purged.
   */
  async purgeChildren(m: EntityManager, tickets: ResourceKey[]): Promise<ResourceKey[]> {
    if (tickets.length === 0) return [];
    const rows = returnedRows<{ tenant_id: string; model_id: string }>(
      await m.query(
        `UPDATE snapshots s SET model = NULL, deleted_at = now(), updated_at = now()
          FROM unnest($1::uuid[], $2::text[]) AS t(tenant_id, ticket_id)
          WHERE s.tenant_id = t.tenant_id AND s.model_type = 'message' AND s.model->>'ticket_id' = t.ticket_id AND s.deleted_at IS NULL
          RETURNING s.tenant_id, s.model_id`,
        [tickets.map((t) => t.tenantId), tickets.map((t) => t.modelId)],
      ),
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, modelType: 'message', modelId: r.model_id }));
  }

  /** A tenant's events recorded since a time, oldest first, for replays. */
  async envelopesSince(tenantId: string, since: Date, limit: number): Promise<Array<{ id: string; type: string; modelId: string; schemaVersion: number }>> {
    const rows: Array<{ id: string; type: string; model_id: string; schema_version: number }> = await this.events.manager.query(
      `SELECT id, type, model_id, schema_version FROM events WHERE tenant_id = $1 AND recorded_at >= $2 ORDER BY recorded_at, id LIMIT $3`,
      [tenantId, since, limit],
    );
    return rows.map((r) => ({ id: r.id, type: r.type, modelId: r.model_id, schemaVersion: r.schema_version }));
  }

  /**
   * The envelopes of some of a tenant's events recorded since a time, by id: what a replay's payload filter
   * tests (`envelopesSince` reads only the columns every replay needs; the envelopes are read a page of ids at a time).
   */
  async envelopesByIds(tenantId: string, ids: string[], since: Date): Promise<Map<string, EventEntity['envelope']>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; envelope: EventEntity['envelope'] }> = await this.events.manager.query(
      `SELECT id, envelope FROM events WHERE tenant_id = $1 AND id = ANY($2) AND recorded_at >= $3`,
      [tenantId, ids, since],
    );
    return new Map(rows.map((r) => [r.id, r.envelope]));
  }

  /**
   * Those of these events (tenant UUID and event id) that are in the log, recorded since `since` (which
   * keeps the lookup to the recent partitions).
   */
  async recordedAmong(keys: Array<{ tenantId: string; id: string }>, since: Date): Promise<Array<{ tenantId: string; id: string }>> {
    if (keys.length === 0) return [];
    const rows: Array<{ tenant_id: string; id: string }> = await this.events.manager.query(
      `SELECT e.tenant_id, e.id FROM events e
         JOIN unnest($1::uuid[], $2::text[]) AS k(tenant_id, id) ON e.tenant_id = k.tenant_id AND e.id = k.id
        WHERE e.recorded_at >= $3`,
      [keys.map((k) => k.tenantId), keys.map((k) => k.id), since],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
  }

  /** The schema version of a tenant's logged event, or undefined when it is not in the log. */
  async schemaVersion(tenantId: string, id: string): Promise<number | undefined> {
    const rows: Array<{ schema_version: number }> = await this.events.manager.query(
      `SELECT schema_version FROM events WHERE tenant_id = $1 AND id = $2 LIMIT 1`,
      [tenantId, id],
    );
    return rows[0]?.schema_version;
  }

  /** A tenant's logged event as recorded (the envelope), or null when it is not in the log (never recorded, or past retention). */
  async findEnvelope(tenantId: string, id: string): Promise<EventEntity['envelope'] | null> {
    const rows: Array<{ envelope: EventEntity['envelope'] }> = await this.events.manager.query(
      `SELECT envelope FROM events WHERE tenant_id = $1 AND id = $2 LIMIT 1`,
      [tenantId, id],
    );
    return rows[0]?.envelope ?? null;
  }

  findSnapshot(tenantId: string, modelType: string, modelId: string): Promise<SnapshotEntity | null> {
    return this.snapshots.findOneBy({ tenantId, modelType, modelId });
  }
}
