import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChangeStatus, changeStatusFor, EventEnvelope, parentResource, schemaVersionOf, serializeEnvelope } from '@hookhub/contracts';
import { EventLogRepository, NewEventRow, ResourceKey, SnapshotWrite } from '@hookhub/persistence';
import { envelopeText } from './envelope-text';

export interface RecordResult {
  /** `<tenant>:<event id>` of the events that were not in the log before. */
  fresh: Set<string>;
  /**
   * The change status the event log holds for each event of the batch, by
   * `<tenant>:<event id>`: decided when it was first recorded, so a redelivered
   * event keeps the status it had (its resource's first event stays the CREATION).
   */
  statuses: Map<string, ChangeStatus>;
}

export const eventKey = (e: Pick<EventEnvelope, 'account_id' | 'id'>): string => `${e.account_id}:${e.id}`;

const resourceOf = (e: EventEnvelope): ResourceKey => ({ tenantId: e.account_id, modelType: e.model_type, modelId: e.model_id });

/**
 * Writes events into the append-only log and keeps each resource's latest
 * snapshot, idempotently: an event already in the log changes nothing.
 * Versions count the events of a resource in the order they were recorded,
 * and version 1 is the resource's CREATION whatever its type is called.
 * A deletion is final: the snapshot's model and the logged models are erased,
 * and later events cannot bring the data back. Deleting a ticket deletes its
 * messages the same way, including messages recorded after it.
 */
@Injectable()
export class EventRecorder {
  constructor(private readonly log: EventLogRepository) {}

  async record(m: EntityManager, events: EventEnvelope[]): Promise<RecordResult> {
    const unique = [...new Map(events.map((e) => [eventKey(e), e])).values()];
    if (unique.length === 0) return { fresh: new Set(), statuses: new Map() };

    // A message is recorded under its ticket's lock too: a deletion of the ticket in another
    // transaction either sees this message (and purges it) or is seen by it.
    const parents = new Map<string, ResourceKey>();
    for (const e of unique) {
      const parent = parentResource(e);
      if (parent) parents.set(eventKey(e), { tenantId: e.account_id, ...parent });
    }
    const { locked, recorded } = await this.log.lockForRecording(
      m,
      [...unique.map(resourceOf), ...parents.values()],
      unique.map((e) => ({ tenantId: e.account_id, id: e.id })),
    );
    const statuses = new Map(recorded);
    const fresh = unique.filter((e) => !recorded.has(eventKey(e)));

    const rows: NewEventRow[] = [];
    const writes = new Map<string, SnapshotWrite>();
    const newlyDeleted = new Map<string, ResourceKey>();
    const deletedNow = (k: string): boolean => writes.get(k)?.deleted ?? locked.get(k)?.deleted ?? false;
    for (const event of fresh) {
      const key = resourceOf(event);
      const k = EventLogRepository.key(key);
      const current = locked.get(k);
      if (!current) throw new Error(`snapshot row for ${k} was not locked`);
      const previous = writes.get(k);
      const version = (previous?.version ?? current.version) + 1;
      const wasDeleted = current.deleted || previous?.deleted === true;
      const parent = parents.get(eventKey(event));
      const deletedBefore = wasDeleted || (parent !== undefined && deletedNow(EventLogRepository.key(parent)));
      const status = changeStatusFor(event, version === 1);
      const createdAt = new Date(event.created_at);
      const lastApplied = previous ? previous.sourceCreatedAt : current.sourceCreatedAt;
      const newer = !lastApplied || createdAt.getTime() >= lastApplied.getTime();

      const write: SnapshotWrite = {
        ...key,
        version,
        deleted: deletedBefore || status === 'DELETION',
        lastEventId: event.id,
        sourceCreatedAt: previous?.sourceCreatedAt ?? current.sourceCreatedAt,
        modelEventId: previous?.modelEventId,
      };
      if (status === 'DELETION' || deletedBefore) {
        write.modelEventId = null;
        write.sourceCreatedAt = newer ? createdAt : write.sourceCreatedAt;
        if (!wasDeleted) newlyDeleted.set(k, key);
      } else if (newer) {
        write.modelEventId = event.id;
        write.sourceCreatedAt = createdAt;
      }
      writes.set(k, write);
      statuses.set(eventKey(event), status);

      // A deleted resource's model is not logged; otherwise the row keeps the bytes subscribers get.
      const envelope = write.deleted ? serializeEnvelope({ ...event, model: null }) : envelopeText(event);
      rows.push({
        ...key,
        id: event.id,
        type: event.type,
        version,
        changeStatus: status,
        envelope,
        schemaVersion: schemaVersionOf(event),
        createdAt,
      });
    }

    await this.log.appendEvents(m, rows, [...writes.values()]);
    // After the append, so the messages of this very batch are purged too.
    const children = await this.log.purgeChildren(
      m,
      [...newlyDeleted.values()].filter((k) => k.modelType === 'ticket'),
    );
    await this.log.scrubModels(m, [...newlyDeleted.values(), ...children]);
    return { fresh: new Set(fresh.map(eventKey)), statuses };
  }
}
