import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { connect } from 'nats';
import { EventEnvelope, SubjectNames } from '@hookhub/contracts';
import { buildProviderIngestApp } from '../../apps/provider-ingest/src/build-provider-ingest-app';
import type { ApiClient } from './hub';
import type { SignedRequest } from '@hookhub/testing';
import type { TestEnvironment } from './test-environment';

export interface RunningIngest {
  app: INestApplication;
  baseUrl: string;
  close(): Promise<void>;
}

/** provider-ingest, in this process, built as main.ts builds it, against the test environment. */
export async function startIngest(env: TestEnvironment, extra: Record<string, string | number | boolean> = {}): Promise<RunningIngest> {
  const app = await buildProviderIngestApp(env.config({ PROVIDER_INGEST_PORT: 0, ...extra }));
  await app.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return { app, baseUrl, close: () => app.close() };
}

export interface Connection {
  id: string;
  url: string;
  body: Record<string, unknown>;
}

/** Creates a provider connection through the admin API and points its public URL at the running ingest. */
export async function connectProvider(
  api: ApiClient,
  token: string,
  ingest: RunningIngest,
  provider: string,
  credentials: Record<string, string>,
  extra: Record<string, unknown> = {},
): Promise<Connection> {
  const created = await api.request<{ id: string; ingest_path: string }>('POST', '/v1/provider-connections', {
    token,
    body: { provider, credentials, ...extra },
  });
  if (created.status !== 201) throw new Error(`connection creation failed: ${created.status} ${created.text}`);
  const url = ingest.baseUrl + created.body.ingest_path;
  const patched = await api.request<Record<string, unknown>>('PATCH', `/v1/provider-connections/${created.body.id}`, { token, body: { public_url: url } });
  if (patched.status !== 200) throw new Error(`connection update failed: ${patched.status} ${patched.text}`);
  return { id: created.body.id, url, body: patched.body };
}

export interface IngestResponse {
  status: number;
  contentType: string;
  text: string;
}

/** Sends a signed request exactly as built (bytes and headers untouched). */
export async function send(req: SignedRequest): Promise<IngestResponse> {
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.method === 'GET' ? undefined : new Uint8Array(req.body),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** Every event of `type` stored on the events stream for `tenantId`, oldest first. */
export async function streamEvents(env: TestEnvironment, tenantId: string, type = '*'): Promise<EventEnvelope[]> {
  const names = new SubjectNames(env.prefix);
  const nc = await connect({ servers: env.natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const prefix = names.event(tenantId, '');
    const { state } = await jsm.streams.info(names.eventsStream);
    const events: EventEnvelope[] = [];
    // Test streams hold few messages: reading each by sequence is simple and exact.
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(names.eventsStream, { seq }).catch(() => null);
      if (!m || !m.subject.startsWith(prefix)) continue;
      if (type !== '*' && m.subject !== names.event(tenantId, type)) continue;
      events.push(m.json<EventEnvelope>());
    }
    return events;
  } finally {
    await nc.close();
  }
}
