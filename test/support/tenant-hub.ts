import { Client } from 'pg';
import { RunningHub, startHub } from './hub';
import { createSubscription, SubscriptionRequest } from './subscriptions';
import { createTestEnvironment, TestEnvironment } from './test-environment';

/** The hub in this process with one tenant (an admin key and a publisher key), and a client of its database. */
export interface TenantHub {
  env: TestEnvironment;
  hub: RunningHub;
  db: Client;
  tenant: { tenantId: string; adminKey: string };
  publisher: string;
}

export async function startTenantHub(extra: Record<string, string | number | boolean> = {}, options: { dispatchers?: number } = {}): Promise<TenantHub> {
  const env = await createTestEnvironment();
  const hub = await startHub(env, extra, options);
  const db = new Client({ connectionString: env.databaseUrl });
  await db.connect();
  const tenant = await hub.api.createTenant();
  const publisher = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
  return { env, hub, db, tenant, publisher };
}

export async function stopTenantHub(ctx: TenantHub | undefined): Promise<void> {
  if (!ctx) return;
  await ctx.hub.close();
  await ctx.db.end();
  await ctx.env.teardown();
}

/** A subscription of the tenant; returns its id. */
export async function subscribe(ctx: TenantHub, body: SubscriptionRequest): Promise<string> {
  return (await createSubscription(ctx.hub.api, ctx.tenant.adminKey, body)).id;
}
