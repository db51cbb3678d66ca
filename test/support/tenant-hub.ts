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

/** Publishes an event through the API as the tenant's publisher (a message belongs to ticket t-1); throws unless it is accepted. */
export async function publishEvent(ctx: TenantHub, id: string, type = 'ticket.created', modelId = id): Promise<void> {
  const res = await ctx.hub.api.request('POST', '/v1/events', {
    token: ctx.publisher,
    body: { id, type, model_id: modelId, model: type.startsWith('message') ? { id: modelId, ticket_id: 't-1' } : { id: modelId } },
  });
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${res.text}`);
}
