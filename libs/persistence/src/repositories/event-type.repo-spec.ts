import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { EventTypeRepository, NewEventTypeVersion } from './event-type.repository';

const version = (n: number): NewEventTypeVersion => ({
  modelSchema: { type: 'object', title: `v${n}` },
  dataSchema: { type: 'object' },
  example: { id: 'evt', model: { id: 'm' } },
});

describe('EventTypeRepository', () => {
  let db: RepositoryDatabase;
  let types: EventTypeRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    types = new EventTypeRepository(db.dataSource);
    tenantId = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  const newType = (name: string, owner: string | null = tenantId) => ({
    tenantId: owner,
    name,
    description: name,
    modelType: name.split('.')[0],
    resourcePath: `/v0/${name.split('.')[0]}/{id}`,
    topic: name.split('.')[0],
  });

  it('moves the revision forward with every write: a type, a version, a change, a deprecation', async () => {
    const revisions = [await types.revision()];
    const created = await types.locked((m) => types.create(m, newType('order.created'), version(1)));
    revisions.push(await types.revision());
    await types.locked((m) => types.addVersion(m, created.id, version(2)));
    revisions.push(await types.revision());
    await types.locked((m) => types.update(m, created.id, { deprecated: true }));
    revisions.push(await types.revision());
    await types.locked((m) => types.setVersionDeprecated(m, created.id, 1, true));
    revisions.push(await types.revision());
    const numbers = revisions.map(BigInt);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]);

    const [stored] = (await types.all()).filter((t) => t.id === created.id);
    expect(stored).toMatchObject({ name: 'order.created', tenantId, deprecated: true, resourcePath: '/v0/order/{id}' });
    expect(stored.versions.map((v) => [v.version, v.deprecated, v.modelSchema.title])).toEqual([
      [1, true, 'v1'],
      [2, false, 'v2'],
    ]);
  });

  it('numbers versions one after the other, also when two writers add one at the same time', async () => {
    const created = await types.locked((m) => types.create(m, newType('invoice.paid', null), version(1)));
    await Promise.all([2, 3, 4].map((n) => types.locked((m) => types.addVersion(m, created.id, version(n)))));
    const [stored] = (await types.all()).filter((t) => t.id === created.id);
    expect(stored.tenantId).toBeNull();
    expect(stored.versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a second platform type or a second type of one tenant with the same name', async () => {
    await expect(types.locked((m) => types.create(m, newType('invoice.paid', null), version(1)))).rejects.toThrow(/duplicate key/);
    await expect(types.locked((m) => types.create(m, newType('order.created'), version(1)))).rejects.toThrow(/duplicate key/);
    // Another tenant may use the name (the API refuses only what one tenant would see twice).
    const other = await db.seed.tenant();
    await expect(types.locked((m) => types.create(m, newType('order.created', other), version(1)))).resolves.toMatchObject({ tenantId: other });
  });

  it('reports null for a version the type does not have', async () => {
    const [order] = (await types.all()).filter((t) => t.name === 'order.created' && t.tenantId === tenantId);
    await expect(types.locked((m) => types.setVersionDeprecated(m, order.id, 9, true))).resolves.toBeNull();
  });
});
