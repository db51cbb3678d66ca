import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { buildDispatcherApp } from '../../apps/dispatcher/src/build-dispatcher-app';
import { buildSubscriptionsApp } from '../../apps/subscriptions/src/build-subscriptions-app';
import type { TestEnvironment } from './test-environment';

/** The subscriptions app and a dispatcher, started in this process against the test environment. */
export interface RunningHub {
  api: ApiClient;
  subscriptions: INestApplication;
  dispatchers: INestApplication[];
  startDispatcher(extra?: Record<string, string | number | boolean>): Promise<INestApplication>;
  close(): Promise<void>;
}

export async function startHub(
  env: TestEnvironment,
  extra: Record<string, string | number | boolean> = {},
  options: { dispatchers?: number } = {},
): Promise<RunningHub> {
  const subscriptions = await buildSubscriptionsApp(env.config(extra));
  await subscriptions.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(subscriptions.getHttpServer().address() as AddressInfo).port}`;
  const dispatchers: INestApplication[] = [];
  const startDispatcher = async (more: Record<string, string | number | boolean> = {}): Promise<INestApplication> => {
    const app = await buildDispatcherApp(env.config({ ...extra, ...more }));
    await app.listen(0, '127.0.0.1');
    dispatchers.push(app);
    return app;
  };
  for (let i = 0; i < (options.dispatchers ?? 1); i++) await startDispatcher();
  return {
    api: new ApiClient(base, env.adminToken),
    subscriptions,
    dispatchers,
    startDispatcher,
    close: async () => {
      for (const d of dispatchers) await d.close();
      await subscriptions.close();
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A thin HTTP client for the admin API, as a tenant's code would call it. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  /** A tenant with an admin key, ready to use. */
  async createTenant(name = 'Acme'): Promise<{ tenantId: string; adminKey: string; keyId: string }> {
    const tenant = await this.request<{ id: string }>('POST', '/v1/tenants', { token: this.adminToken, body: { name } });
    if (tenant.status !== 201) throw new Error(`tenant creation failed: ${tenant.status} ${tenant.text}`);
    const key = await this.createKey(tenant.body.id, ['admin']);
    return { tenantId: tenant.body.id, adminKey: key.key, keyId: key.id };
  }

  async createKey(tenantId: string, roles: string[]): Promise<{ id: string; key: string }> {
    const res = await this.request<{ id: string; key: string }>('POST', `/v1/tenants/${tenantId}/api-keys`, {
      token: this.adminToken,
      body: { name: roles.join('+'), roles },
    });
    if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${res.text}`);
    return res.body;
  }
}
