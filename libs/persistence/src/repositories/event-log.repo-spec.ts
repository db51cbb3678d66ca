import { randomUUID } from 'node:crypto';
import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { EventEntity } from '../entities/event.entity';
import { SnapshotEntity } from '../entities/snapshot.entity';
import { EventLogRepository, NewEventRow, ResourceKey, SnapshotWrite } from './event-log.repository';

describe('EventLogRepository', () => {
  let db: RepositoryDatabase;
  let log: EventLogRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    log = new EventLogRepository(db.dataSource.getRepository(EventEntity), db.dataSource.getRepository(SnapshotEntity));
    tenantId = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  const ticket = (): ResourceKey => ({ tenantId, modelType: 'ticket', modelId: randomUUID() });
  const message = (): ResourceKey => ({ tenantId, modelType: 'message', modelId: randomUUID() });
  function event(key: ResourceKey, version: number, model: object | null, r: Partial<NewEventRow> = {}): NewEventRow {
    const id = `evt-${randomUUID()}`;
    return {
      ...key,
      id,
      type: `${key.modelType}.updated`,
      version,
      changeStatus: version === 1 ? 'CREATION' : 'UPDATE',
      envelope: JSON.stringify({ id, type: `${key.modelType}.updated`, model_type: key.modelType, model_id: key.modelId, model }),
      schemaVersion: 1,
      createdAt: new Date(),
      ...r,
    };
  }
  const write = (e: NewEventRow, w: Partial<SnapshotWrite> = {}): SnapshotWrite => ({
    tenantId: e.tenantId,
    modelType: e.modelType,
    modelId: e.modelId,
    version: e.version,
    modelEventId: e.id,
    deleted: false,
    lastEventId: e.id,
    sourceCreatedAt: e.createdAt,
    ...w,
  });
  /** Records events as the event recorder does: lock the resources, then append. */
  async function record(events: NewEventRow[], writes: SnapshotWrite[]): Promise<void> {
    await db.dataSource.transaction(async (m) => {
      await log.lockForRecording(m, events, events);
      await log.appendEvents(m, events, writes);
    });
  }

  describe('lockForRecording', () => {
    it('creates the missing snapshots at version 0 and reports which events are logged already, with their change status', async () => {
      const known = ticket();
      const logged = event(known, 1, { id: 1 });
      await record([logged], [write(logged)]);
      const fresh = ticket();

      const result = await db.dataSource.transaction((m) =>
        log.lockForRecording(
          m,
          [known, fresh, known],
          [
            { tenantId, id: logged.id },
            { tenantId, id: 'evt-not-logged' },
          ],
        ),
      );

      expect(result.locked.get(EventLogRepository.key(known))).toMatchObject({ version: 1, deleted: false });
      expect(result.locked.get(EventLogRepository.key(fresh))).toMatchObject({ version: 0, deleted: false, sourceCreatedAt: null });
      expect(result.locked.size).toBe(2);
      expect([...result.recorded]).toEqual([[`${tenantId}:${logged.id}`, 'CREATION']]);
    });

    it('lets two batches locking the same resources in opposite orders both finish (no deadlock)', async () => {
      const [a, b, c] = [ticket(), message(), ticket()];
      await db.dataSource.transaction((m) => log.lockForRecording(m, [a, b, c], []));
      const hold = (keys: ResourceKey[]) =>
        db.dataSource.transaction(async (m) => {
          await log.lockForRecording(m, keys, []);
          await new Promise((r) => setTimeout(r, 150));
          return 'done';
        });
      await expect(Promise.all([hold([a, b, c]), hold([c, b, a])])).resolves.toEqual(['done', 'done']);
    });
  });

  describe('appendEvents', () => {
    it("logs the events and makes the snapshot's model the one of the named event, keeping the stored one for a late event", async () => {
      const key = ticket();
      const v1 = event(key, 1, { subject: 'first' });
      const v2 = event(key, 2, { subject: 'second' });
      await record([v1, v2], [write(v2)]);

      let snap = await log.findSnapshot(tenantId, 'ticket', key.modelId);
      expect(snap).toMatchObject({ version: 2, model: { subject: 'second' }, lastEventId: v2.id, deletedAt: null });
      const [logged] = await db.dataSource.query(`SELECT count(*)::int AS n FROM events WHERE id = ANY($1)`, [[v1.id, v2.id]]);
      expect(logged.n).toBe(2);

      // A write without a model event (an older event that arrived late): logged, the version moves on, the model stays.
      const late = event(key, 3, { subject: 'stale' });
      await record([late], [write(late, { modelEventId: undefined })]);
      snap = await log.findSnapshot(tenantId, 'ticket', key.modelId);
      expect(snap).toMatchObject({ version: 3, model: { subject: 'second' }, lastEventId: late.id });
    });

    it('keeps the envelope text as sent', async () => {
      const key = ticket();
      const e = event(key, 1, null, { envelope: '{"b":1,  "a":[2, 3]}' });
      await record([e], [write(e, { modelEventId: null })]);
      const [row] = await db.dataSource.query(`SELECT envelope::text AS text FROM events WHERE tenant_id = $1 AND id = $2`, [tenantId, e.id]);
      expect(row.text).toBe('{"b":1,  "a":[2, 3]}');
    });
  });

  describe('a deletion', () => {
    it("purges the ticket's live messages and scrubs their models and its own from the log", async () => {
      const t = ticket();
      const [m1, m2] = [message(), message()];
      const created = event(t, 1, { subject: 'secret' });
      const msgs = [event(m1, 1, { ticket_id: t.modelId, body: 'secret 1' }), event(m2, 1, { ticket_id: t.modelId, body: 'secret 2' })];
      const unrelated = message();
      const other = event(unrelated, 1, { ticket_id: 'another', body: 'keep' });
      await record([created, ...msgs, other], [write(created), ...msgs.map((e) => write(e)), write(other)]);

      const deletion = event(t, 2, null, { changeStatus: 'DELETION' });
      const purged = await db.dataSource.transaction(async (m) => {
        await log.lockForRecording(m, [t], [deletion]);
        await log.appendEvents(m, [deletion], [write(deletion, { modelEventId: null, deleted: true })]);
        const children = await log.purgeChildren(m, [t]);
        await log.scrubModels(m, [t, ...children]);
        return children;
      });

      expect(purged.map((k) => k.modelId).sort()).toEqual([m1.modelId, m2.modelId].sort());
      for (const key of [t, m1, m2]) {
        const snap = await log.findSnapshot(tenantId, key.modelType, key.modelId);
        expect(snap?.model).toBeNull();
        expect(snap?.deletedAt).toBeInstanceOf(Date);
      }
      const envelopes: Array<{ id: string; model: unknown }> = await db.dataSource.query(
        `SELECT id, envelope->'model' AS model FROM events WHERE tenant_id = $1 AND id = ANY($2)`,
        [tenantId, [created.id, ...msgs.map((e) => e.id), other.id]],
      );
      const models = new Map(envelopes.map((e) => [e.id, e.model]));
      expect([created, ...msgs].map((e) => models.get(e.id))).toEqual([null, null, null]);
      expect(models.get(other.id)).toEqual({ ticket_id: 'another', body: 'keep' });
    });
  });

  describe('envelopesSince', () => {
    it("lists a tenant's events recorded since a time, oldest first, up to the limit", async () => {
      const tenant = await db.seed.tenant();
      const key = { tenantId: tenant, modelType: 'ticket', modelId: randomUUID() };
      const events = [event(key, 1, {}), event(key, 2, {}), event(key, 3, {})];
      const before = new Date(Date.now() - 1_000);
      for (const e of events) await record([e], [write(e)]);

      const listed = await log.envelopesSince(tenant, before, 2);
      expect(listed).toEqual(events.slice(0, 2).map((e) => ({ id: e.id, type: 'ticket.updated', modelId: key.modelId, schemaVersion: 1 })));
      await expect(log.envelopesSince(tenant, new Date(Date.now() + 60_000), 10)).resolves.toEqual([]);
    });
  });
});
