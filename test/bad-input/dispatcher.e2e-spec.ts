import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { buildDispatcherApp } from '../../apps/dispatcher/src/build-dispatcher-app';
import * as bad from '../support/bad-input';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

/**
 * Issue #6: malformed requests at the dispatcher's HTTP endpoints (/healthz,
 * /readyz, /metrics). They take no input, so what must be refused is what
 * every app refuses before routing (broken JSON bodies, broken framing) and
 * what is not a route; anything else may succeed but never with a 5xx. The
 * dispatcher must publish and store nothing either way.
 */

const LIMIT = 256 * 1024;
const ENDPOINTS = ['/healthz', '/readyz', '/metrics'];
const RUNS = { bodies: 250, routes: 200, framing: 150, noise: 250 };

describe('bad input: the dispatcher', () => {
  let env: TestEnvironment;
  let app: INestApplication;
  let client: bad.BadInputClient;
  let probe: bad.SideEffectProbe;
  let ctx: bad.BadInputContext;
  let initial: bad.WorldState;
  const reports: Record<string, bad.GroupReport> = {};
  const started = Date.now();

  beforeAll(async () => {
    env = await createTestEnvironment();
    app = await buildDispatcherApp(env.config());
    await app.listen(0, '127.0.0.1');
    client = new bad.BadInputClient(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
    for (const path of ENDPOINTS) expect((await client.send(bad.request({ method: 'GET', path, headers: {}, why: 'fixture' }))).status).toBe(200);
    probe = await bad.SideEffectProbe.open(env);
    initial = await probe.capture();
    ctx = { client, probe, baseline: initial };
  });

  afterAll(async () => {
    try {
      if (probe && initial) await probe.expectUnchanged(initial, 'the whole run');
    } finally {
      bad.logGroupReports('dispatcher', reports, started);
      await client?.close();
      await probe?.close();
      await app?.close();
      await env?.teardown();
    }
  });

  const noise = fc.record({ accept: fc.option(bad.oddAccept, { nil: undefined }), extra: bad.noiseHeaders });
  const withNoise = (headers: Record<string, string>, n: { accept?: string; extra: Record<string, string> }) => ({
    ...n.extra,
    ...(n.accept === undefined ? {} : { accept: n.accept }),
    ...headers,
  });

  it('refuses JSON bodies that are malformed, not UTF-8, too deep, too large or undecodable (400, 413, 415)', async () => {
    const arb = fc
      .tuple(fc.constantFrom(...ENDPOINTS), fc.constantFrom('GET', 'POST', 'DELETE'), bad.brokenBody('{"probe":true}', LIMIT, { requireJson: false }), noise)
      .map(([path, method, b, n]) => bad.request({ method, path, headers: withNoise(b.headers, n), body: b.body, why: `${b.why} for ${method} ${path}` }));
    reports.bodies = await bad.assertEveryRequest('dispatcher/bodies', RUNS.bodies, arb, ctx, (req, reply) => bad.expectRefused(req, reply, [400, 413, 415]));
  });

  it('refuses other methods and paths (4xx)', async () => {
    const segment = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.~%'.split('')), minLength: 1, maxLength: 12 });
    const wrongMethod = fc
      .tuple(
        fc.constantFrom(...ENDPOINTS),
        fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'SEARCH', 'M-SEARCH', 'FOO', 'get'),
      )
      .map(([path, method]) => ({ method, path, why: `${method} ${path}` }));
    const extra = fc
      .tuple(fc.constantFrom(...ENDPOINTS, ''), fc.array(segment, { minLength: 1, maxLength: 3 }))
      .map(([p, segs]) => ({ method: 'GET', path: `${p}/x-${segs.join('/')}`, why: 'unknown path' }));
    const unknown = fc
      .oneof(
        bad.badIdSegment([]),
        fc.constantFrom('v1', 'docs', 'ingest', 'admin', '.env', 'health', 'ready', 'metric', 'healthz.json', '%2Fhealthz', 'healthz%00', 'metrics%3Fx'),
      )
      .filter((s) => !['healthz', 'readyz', 'metrics'].includes((bad.decodedSegment(s) ?? '').toLowerCase()))
      .map((s) => ({ method: 'GET', path: `/${s}`, why: 'unknown path' }));
    const arb = fc
      .tuple(fc.oneof(wrongMethod, extra, unknown), fc.option(bad.anyQuery([]), { nil: undefined }), noise)
      .map(([c, q, n]) => bad.request({ method: c.method, path: q ? `${c.path}?${q}` : c.path, headers: withNoise({}, n), why: c.why }));
    reports.routes = await bad.assertEveryRequest('dispatcher/routes', RUNS.routes, arb, ctx);
  });

  it('refuses broken HTTP/1.1 framing', async () => {
    const arb = fc
      .tuple(fc.constantFrom(...ENDPOINTS), fc.constantFrom('GET', 'POST'))
      .chain(([path, method]) =>
        bad.rawFramingAttack(method, path, { 'Content-Type': 'application/json' }).map((a) => ({ ...a, why: `${a.why}, ${method} ${path}` })),
      );
    reports.framing = await bad.assertEveryRawRequest('dispatcher/framing', RUNS.framing, arb, ctx);
  });

  it('never answers noise (queries, headers, bodies it ignores, path variants) with a server error', async () => {
    const pathVariant = fc
      .tuple(fc.constantFrom(...ENDPOINTS), fc.constantFrom('as is', 'upper', 'trailing slash', 'double slash', 'encoded'))
      .map(([p, how]) => {
        if (how === 'upper') return p.toUpperCase();
        if (how === 'trailing slash') return `${p}/`;
        if (how === 'double slash') return `/${p}`;
        if (how === 'encoded') return `/%${p.charCodeAt(1).toString(16)}${p.slice(2)}`;
        return p;
      });
    const ignoredBody = fc.option(
      fc
        .tuple(
          bad.nonJsonContentType,
          bad.nastyString.filter((s) => s.length > 0),
        )
        .map(([ct, body]) => ({ 'content-type': ct, body })),
      { nil: undefined },
    );
    const arb = fc
      .tuple(pathVariant, fc.constantFrom('GET', 'GET', 'HEAD'), fc.option(bad.anyQuery([]), { nil: undefined }), ignoredBody, noise)
      .map(([path, method, q, b, n]) =>
        bad.request({
          method,
          path: q ? `${path}?${q}` : path,
          headers: withNoise(b && method === 'GET' ? { 'content-type': b['content-type'] } : {}, n),
          body: method === 'GET' ? b?.body : undefined,
          why: `noise: ${method} ${path}`,
        }),
      );
    reports.noise = await bad.assertEveryRequest('dispatcher/noise', RUNS.noise, arb, ctx, bad.expectNoServerError);
  });
});
