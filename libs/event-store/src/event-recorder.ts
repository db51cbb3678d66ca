import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { changeStatusOf, EventEnvelope, serializeEnvelope } from '@hookhub/contracts';
import { EventLogRepository, NewEventRow, ResourceKey, SnapshotWrite } from '@hookhub/persistence';
import { envelopeText } from './envelope-text';

export interface RecordResult {
  /** `<tenant>:<event id>` of the events that were not in the log before. */
  fresh: Set<string>;
}

export const eventKey = (e: Pick<EventEnvelope, 'account_id' | 'id'>): string => `${e.account_id}:${e.id}`;

const resourceOf = (e: EventEnvelope): ResourceKey => ({ tenantId: e.account_id, modelType: e.model_type, modelId: e.model_id });

/**
 * Writes events into the append-only log and keeps each resource's latest
 * snapshot, idempotently: an event already in the log changes nothing.
 * Versions count the events of a resource in the order they were recorded.
 * A deletion is final: the snapshot's model and the logged models are erased,
 * and later events cannot bring the data back.
 */
@Injectable()
export class EventRecorder {
  constructor(private readonly log: EventLogRepository) {}

  async record(m: EntityManager, events: EventEnvelope[]): Promise<RecordResult> {
    const unique = [...new Map(events.map((e) => [eventKey(e), e])).values()];
    if (unique.length === 0) return { fresh: new Set() };

    const { locked, recorded } = await this.log.lockForRecording(
      m,
      unique.map(resourceOf),
      unique.map((e) => ({ tenantId: e.account_id, id: e.id })),
    );
    const fresh = unique.filter((e) => !recorded.has(eventKey(e)));

    const rows: NewEventRow[] = [];
    const writes = new Map<string, SnapshotWrite>();
    const newlyDeleted = new Map<string, ResourceKey>();
    for (const event of fresh) {
      const key = resourceOf(event);
      const k = EventLogRepository.key(key);
      const current = locked.get(k);
      if (!current) throw new Error(`snapshot row for ${k} was not locked`);
      const previous = writes.get(k);
      const version = (previous?.version ?? current.version) + 1;
      const deletedBefore = current.deleted || previous?.deleted === true;
      const status = changeStatusOf(event.type);
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
        if (!deletedBefore) newlyDeleted.set(k, key);
      } else if (newer) {
        write.modelEventId = event.id;
        write.sourceCreatedAt = createdAt;
      }
      writes.set(k, write);

      // A deleted resource's model is not logged; otherwise the row keeps the bytes subscribers get.
      const envelope = write.deleted ? serializeEnvelope({ ...event, model: null }) : envelopeText(event);
      rows.push({
        ...key,
        id: event.id,
        type: event.type,
        version,
        changeStatus: status,
        envelope,
        createdAt,
      });
    }

    await this.log.appendEvents(m, rows, [...writes.values()]);
    await this.log.scrubModels(m, [...newlyDeleted.values()]);
    return { fresh: new Set(fresh.map(eventKey)) };
  }
}
