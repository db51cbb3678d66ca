import { DataSource } from 'typeorm';
import { TenantEntity, TenantRepository } from '@hookhub/persistence';
import { RunningHub, startHub } from '../support/hub';
import { streamEvents } from '../support/ingest';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * Every envelope carries its tenant's account URL, which each process keeps
 * in a bounded cache: a change or deletion made through this process shows
 * at once, not after the cache entry expires.
 */
describe('tenant account URL cache', () => {
  let env: TestEnvironment;
  let hub: RunningHub;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env, {}, { dispatchers: 0 });
  });

  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  it('a published event carries the account URL the tenant has now, after the tenant changed', async () => {
    const created = await hub.api.request<{ id: string }>('POST', '/v1/tenants', {
      token: env.adminToken,
      body: { name: 'Acme', account_url: 'https://before.example.com' },
    });
    const tenantId = created.body.id;
    const { key } = await hub.api.createKey(tenantId, ['publisher']);
    const publish = async (modelId: string): Promise<void> => {
      const res = await hub.api.request('POST', '/v1/events', { token: key, body: { type: 'ticket.created', model_id: modelId, model: { id: modelId } } });
      expect(res.status).toBe(202);
    };

    await publish('t-1');
    await hub.subscriptions.get(DataSource).getRepository(TenantEntity).update({ id: tenantId }, { accountUrl: 'https://after.example.com' });
    await publish('t-2');

    const urls = (await streamEvents(env, tenantId)).map((e) => [e.model_id, e.account_url]);
    expect(urls).toEqual([
      ['t-1', 'https://before.example.com'],
      ['t-2', 'https://after.example.com'],
    ]);
  });

  it('a deleted tenant has no account URL any more', async () => {
    const tenants = hub.subscriptions.get(TenantRepository);
    const tenant = await tenants.create({ name: 'Gone', accountUrl: 'https://gone.example.com' });
    expect(await tenants.accountUrl(tenant.id)).toBe('https://gone.example.com');

    await hub.subscriptions.get(DataSource).getRepository(TenantEntity).delete({ id: tenant.id });

    expect(await tenants.accountUrl(tenant.id)).toBe('');
  });
});
