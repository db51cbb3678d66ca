import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, startAppProcess, stopProcess } from '../support/processes';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * Tracing in the built app (dist/apps/subscriptions/main.js, `npm run build`): the OTel SDK that main.ts starts
 * from the OTEL_* variables exports real OTLP/HTTP protobuf to a collector, continues a caller's traceparent, and
 * flushes at SIGTERM; a collector that is away costs the stop at most a few seconds. The span tree itself is
 * tested in process (test/e2e/tracing.e2e-spec.ts).
 */

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'subscriptions', 'main.js');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

/** An OTLP/HTTP collector stand-in that keeps every export. */
class Collector {
  readonly exports: Array<{ path: string; contentType: string; body: Buffer }> = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.exports.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let env: TestEnvironment;
let collector: Collector;

beforeAll(async () => {
  env = await createTestEnvironment();
  collector = await new Collector().start();
});
afterAll(async () => {
  await collector?.stop();
  await env?.teardown();
});

const appEnv = (extra: Record<string, string>) => ({ ...env.config(), LOG_LEVEL: 'info', HOST: '127.0.0.1', ...extra });

it("exports the request's span over OTLP/HTTP protobuf, in the caller's trace, when it stops", async () => {
  const app = await startAppProcess(MAIN, appEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }), 'SUBSCRIPTIONS_PORT');
  expect(app.output.join('')).toContain(`tracing on: spans of hookhub-subscriptions go to ${collector.url} (OTLP http/protobuf)`);
  const res = await fetch(`http://127.0.0.1:${app.port}/v1/events`, {
    method: 'POST',
    headers: { authorization: 'Bearer not-a-key', 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
    body: JSON.stringify({ type: 'ticket.created', model_id: 't-1' }),
  });
  expect(res.status).toBe(401);
  await stopProcess(app);
  expect(app.child.exitCode).toBe(0);

  const traces = collector.exports.filter((e) => e.path === '/v1/traces');
  expect(traces.map((e) => e.contentType)).toEqual(traces.map(() => 'application/x-protobuf'));
  const body = Buffer.concat(traces.map((e) => e.body));
  expect(body.includes('POST /v1/events')).toBe(true);
  expect(body.includes('hookhub-subscriptions')).toBe(true);
  expect(body.includes(Buffer.from(TRACE_ID, 'hex'))).toBe(true);
  // Traces only: no metrics or logs exporters started beside them.
  expect(collector.exports.filter((e) => e.path !== '/v1/traces')).toEqual([]);
});

it('stops cleanly and soon when the collector is away, saying the last spans were not exported', async () => {
  const app = await startAppProcess(MAIN, appEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}` }), 'SUBSCRIPTIONS_PORT');
  await fetch(`http://127.0.0.1:${app.port}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const stopping = Date.now();
  await stopProcess(app);
  expect(app.child.exitCode).toBe(0);
  expect(Date.now() - stopping).toBeLessThan(8_000);
  expect(app.output.join('')).toMatch(/the last spans were not exported/);
});

it('starts no SDK without an endpoint or exporter: no tracing line', async () => {
  const app = await startAppProcess(MAIN, appEnv({}), 'SUBSCRIPTIONS_PORT');
  await stopProcess(app);
  expect(app.output.join('')).not.toContain('tracing on');
});
