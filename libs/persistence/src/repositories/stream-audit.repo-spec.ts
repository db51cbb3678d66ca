import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { StreamAuditRepository } from './stream-audit.repository';

describe('StreamAuditRepository', () => {
  let db: RepositoryDatabase;
  let audits: StreamAuditRepository;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    audits = new StreamAuditRepository(db.dataSource);
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  const rows = async (): Promise<Array<{ stream: string; checked_through: string }>> =>
    db.dataSource.query(`SELECT stream, checked_through FROM stream_audits ORDER BY stream`);

  it('hands the first pass null, records where it got, and the next pass starts there', async () => {
    const seen: Array<number | null> = [];
    await expect(audits.audit('EVENTS_A', async (from) => (seen.push(from), 40))).resolves.toBe(true);
    await expect(audits.audit('EVENTS_A', async (from) => (seen.push(from), 75))).resolves.toBe(true);
    expect(seen).toEqual([null, 40]);
    expect(await rows()).toEqual([{ stream: 'EVENTS_A', checked_through: '75' }]);
  });

  it('writes nothing for a pass that did not move on (an idle hub changes no row)', async () => {
    await expect(audits.audit('EVENTS_B', async () => null)).resolves.toBe(true);
    expect((await rows()).map((r) => r.stream)).not.toContain('EVENTS_B');
    const before = await db.dataSource.query(`SELECT updated_at FROM stream_audits WHERE stream = 'EVENTS_A'`);
    await audits.audit('EVENTS_A', async (from) => from);
    expect(await db.dataSource.query(`SELECT updated_at FROM stream_audits WHERE stream = 'EVENTS_A'`)).toEqual(before);
  });

  it('runs one pass of a stream at a time; a pass that throws records nothing', async () => {
    let release!: () => void;
    const holding = audits.audit('EVENTS_C', () => new Promise((resolve) => (release = () => resolve(10))));
    await new Promise((r) => setTimeout(r, 100));
    let ran = false;
    await expect(audits.audit('EVENTS_C', async () => ((ran = true), 20))).resolves.toBe(false);
    expect(ran).toBe(false);
    release();
    await expect(holding).resolves.toBe(true);
    await expect(audits.audit('EVENTS_C', async () => Promise.reject(new Error('NATS down')))).rejects.toThrow('NATS down');
    expect((await rows()).find((r) => r.stream === 'EVENTS_C')).toEqual({ stream: 'EVENTS_C', checked_through: '10' });
  });
});
