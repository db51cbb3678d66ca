import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually } from '../support/eventually';
import { ApiClient } from '../support/hub';
import { AppProcess, buildApp, startAppProcess, stopProcess } from '../support/processes';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

const LISTENERS = `SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'hookhub-api-keys:%'`;

/** The built app under dist/ (the integration run builds first); builds it only when missing. */
function builtSubscriptions(): string {
  const main = join(__dirname, '..', '..', 'dist', 'apps', 'subscriptions', 'main.js');
  return existsSync(main) ? main : buildApp('subscriptions');
}

/**
 * Two subscriptions pods cache API keys (no database round trip per request);
 * the README promises that revocation is immediate for the API, so a key
 * revoked through one pod must be refused by the very next request to the
 * other, also when that pod was frozen or lost its listener meanwhile.
 */
describe('API key revocation across two subscriptions pods', () => {
  let env: TestEnvironment;
  let db: Client;
  const pods: AppProcess[] = [];
  let a: ApiClient;
  let b: ApiClient;
  let tenant: { tenantId: string; adminKey: string };

  const use = (pod: ApiClient, key: string): Promise<number> => pod.request('GET', '/v1/subscriptions', { token: key }).then((r) => r.status);
  const revoke = (pod: ApiClient, id: string): Promise<number> => pod.request('DELETE', `/v1/api-keys/${id}`, { token: tenant.adminKey }).then((r) => r.status);
  const listeners = async (): Promise<Array<{ pid: number; application_name: string }>> => (await db.query(LISTENERS)).rows;

  beforeAll(async () => {
    env = await createTestEnvironment();
    const main = builtSubscriptions();
    for (let i = 0; i < 2; i++) pods.push(await startAppProcess(main, env.config(), 'SUBSCRIPTIONS_PORT'));
    [a, b] = pods.map((p) => new ApiClient(`http://127.0.0.1:${p.port}`, env.adminToken));
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    await eventually(async () => expect(await listeners()).toHaveLength(2));
    tenant = await a.createTenant();
  });

  afterAll(async () => {
    for (const p of pods) await stopProcess(p);
    await db?.end();
    await env?.teardown();
  });

  it('serves a known key from its cache: a revocation made in SQL, bypassing the API, is not seen', async () => {
    const key = await a.createKey(tenant.tenantId, ['reader']);
    expect(await use(b, key.key)).toBe(200);
    await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    // The database says revoked; pod B answers from its cache (the README's promise is for DELETE /v1/api-keys/:id).
    expect(await use(b, key.key)).toBe(200);
  });

  it('refuses a key on one pod at once when the other pod revoked it, every time', async () => {
    for (let i = 0; i < 20; i++) {
      const key = await a.createKey(tenant.tenantId, ['reader']);
      // Both pods have the key in their caches.
      expect([await use(a, key.key), await use(b, key.key)]).toEqual([200, 200]);
      const [revoker, other] = i % 2 === 0 ? [a, b] : [b, a];
      expect(await revoke(revoker, key.id)).toBe(204);
      expect(await use(other, key.key)).toBe(401);
      expect(await use(revoker, key.key)).toBe(401);
    }
  });

  it('a revocation waits for a frozen pod at most a few seconds, and the pod refuses the key as soon as it runs again', async () => {
    const key = await a.createKey(tenant.tenantId, ['reader']);
    const other = await a.createKey(tenant.tenantId, ['reader']);
    expect([await use(b, key.key), await use(b, other.key)]).toEqual([200, 200]);
    pods[1].child.kill('SIGSTOP');
    let took: number;
    try {
      const started = Date.now();
      expect(await revoke(a, key.id)).toBe(204);
      took = Date.now() - started;
    } finally {
      pods[1].child.kill('SIGCONT');
    }
    // Pod B could not confirm: pod A waited for B's cache to go out of use (3 s without a heartbeat), not longer.
    expect(took).toBeGreaterThanOrEqual(2_500);
    expect(took).toBeLessThan(6_000);
    expect(await use(b, key.key)).toBe(401);
    expect(await use(b, other.key)).toBe(200);
  });

  it('a pod whose listener connection is cut reads keys from PostgreSQL until it listens again', async () => {
    const key = await a.createKey(tenant.tenantId, ['reader']);
    expect(await use(b, key.key)).toBe(200);
    const before = await listeners();
    const names = before.map((l) => l.application_name).sort();
    await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1', [
      'hookhub-api-keys:%',
    ]);
    expect(await revoke(a, key.id)).toBe(204);
    expect(await use(b, key.key)).toBe(401);
    expect(await use(a, key.key)).toBe(401);
    // Both listen again, under the same names, on new connections.
    await eventually(async () => {
      const now = await listeners();
      expect(now.map((l) => l.application_name).sort()).toEqual(names);
      for (const old of before) expect(now.map((l) => l.pid)).not.toContain(old.pid);
    });
    const next = await a.createKey(tenant.tenantId, ['reader']);
    expect(await use(b, next.key)).toBe(200);
    expect(await revoke(a, next.id)).toBe(204);
    expect(await use(b, next.key)).toBe(401);
  });
});
