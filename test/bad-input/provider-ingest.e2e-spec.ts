import { METHODS as HTTP_METHODS } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Client } from 'pg';
import { PROVIDER_NAMES } from '@hookhub/providers';
import * as bad from '../support/bad-input';
import { startHub } from '../support/hub';
import { connectProvider, RunningIngest, startIngest, streamEvents } from '../support/ingest';
import { sendgridKeyPair, SnsSigner, startSnsSigner } from '@hookhub/testing';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import {
  BODY_LIMIT,
  anyContentType,
  type Draft,
  type Fixture,
  forgedCallback,
  garbageBody,
  hexString,
  type Method,
  multipartGarbage,
  noise,
  type Provider,
  query,
  secret,
  shapedBody,
  signatureHeaders,
  timestampArb,
  token,
  withNoise,
  type World,
  wrongKey,
} from '../support/bad-input/provider-callbacks';

/**
 * Issue #6 for provider-ingest: thousands of malformed requests at
 * `/ingest/<provider>/<connectionId>` for each of the eleven providers (one
 * real connection each, made through the admin API with valid credentials),
 * and at /healthz, /readyz and /metrics.
 *
 * Every request is invalid by construction. The connections' secrets are
 * random and never used to sign anything: signatures are missing, garbage,
 * or computed the provider's way with another key (SendGrid with another
 * ECDSA key, SNS with another RSA key against the trusted certificate URL,
 * HMACs with keys that all start with "wrong-"), over random or
 * provider-shaped bodies of any content type; Meta's handshake never gets the
 * verify token. So every request must be refused with a 4xx problem document
 * (Meta's failed handshake included), never reach parsing (no
 * `malformed-callback` 400, which only a verified callback can get), store
 * nothing (no row of any table changes) and publish nothing (no stream of the
 * test prefix changes). GET noise at the health and metrics endpoints may
 * succeed but never get a 5xx.
 *
 * SNS certificates may only come from 127.0.0.1 here (as in the e2e spec); no
 * request names a certificate URL on that host other than the trusted one,
 * since a download that fails is answered 503 by design (the provider retries).
 */

const RUNS = {
  signatures: 770,
  bodies: 660,
  multipart: 220,
  queries: 330,
  gets: 330,
  ids: 300,
  methods: 200,
  framing: 220,
  health: 150,
};

/** Statuses a refused callback may get: body framing (400, 413, 415), signature (401), Meta's handshake (403), 405 for GET where there is none. */
const REFUSED = [400, 401, 403, 404, 405, 413, 415, 431];

/* ------------------------------------------------------------------ suite */

describe('bad input: provider-ingest', () => {
  let env: TestEnvironment;
  let ingest: RunningIngest;
  let client: bad.BadInputClient;
  let probe: bad.SideEffectProbe;
  let ctx: bad.BadInputContext;
  let initial: bad.WorldState;
  let w: World;
  let sns: SnsSigner | undefined;
  let providers: Provider[];
  let existingIds: string[];
  let tenantId: string;
  let eventsBefore: number;
  const reports: Record<string, bad.GroupReport> = {};
  const started = Date.now();

  beforeAll(async () => {
    env = await createTestEnvironment();
    sns = await startSnsSigner();
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:ses-fuzz';
    // Every refused callback is logged at warn: thousands of lines would only slow the run down.
    ingest = await startIngest(env, {
      INGEST_BODY_LIMIT: '256kb',
      INGEST_SNS_HOST_PATTERN: '^127\\.0\\.0\\.1$',
      INGEST_SNS_ALLOW_HTTP: true,
      LOG_LEVEL: process.env.BAD_INPUT_DEBUG ? 'warn' : 'error',
    });
    const hub = await startHub(env);
    let tenant: { tenantId: string; adminKey: string };
    const fixtures = {} as Record<Provider, Fixture>;
    const credentials: Record<Provider, Record<string, string>> = {
      sendgrid: { public_key: sendgridKeyPair().publicKey },
      sendgrid_inbound: { username: 'parse-user', password: secret(), public_key: sendgridKeyPair().publicKey },
      mailgun: { signing_key: secret() },
      twilio_sms: { auth_token: secret() },
      twilio_whatsapp: { auth_token: secret() },
      meta_whatsapp: { app_secret: secret(), verify_token: secret() },
      messagebird: { signing_key: secret() },
      ses: { topic_arn: topicArn },
      gupshup: { header_name: 'Authorization', header_value: `Bearer ${secret()}` },
      vonage: { signature_secret: secret(), signature_method: 'sha256' },
      plivo: { auth_token: secret() },
    };
    providers = [...PROVIDER_NAMES];
    try {
      tenant = await hub.api.createTenant('Fuzz ingest');
      for (const provider of providers) {
        const conn = await connectProvider(hub.api, tenant.adminKey, ingest, provider, credentials[provider]);
        fixtures[provider] = { provider, conn, path: new URL(conn.url).pathname, credentials: credentials[provider] };
      }
    } finally {
      // The admin API and the dispatcher have done their part; nothing but provider-ingest runs from here on.
      await hub.close();
    }
    const signer = sns;
    w = { fixtures, sns: signer, topicArn };
    existingIds = providers.map((p) => fixtures[p].conn.id);
    tenantId = tenant.tenantId;
    eventsBefore = (await streamEvents(env, tenantId)).length;

    client = new bad.BadInputClient(ingest.baseUrl);
    probe = await bad.SideEffectProbe.open(env, { extra: () => `SNS subscriptions confirmed: ${signer.confirmations.length}` });
    initial = await probe.capture();
    ctx = { client, probe, baseline: initial };
  });

  afterAll(async () => {
    try {
      if (probe && initial) await probe.expectUnchanged(initial, 'the whole run');
    } finally {
      bad.logGroupReports('provider-ingest', reports, started);
      await client?.close();
      await probe?.close();
      await ingest?.close();
      await sns?.close();
      await env?.teardown();
    }
  });

  /* ------------------------------------------------------------ helpers */

  const pathOf = (p: Provider, q = '') => `${w.fixtures[p].path}${q ? `?${q}` : ''}`;
  const toRequest = (d: Draft, n: { accept?: string; extra?: Record<string, string> }) =>
    bad.request({ method: d.method, path: pathOf(d.provider, d.query), headers: withNoise(d.headers, n), body: d.body, why: `${d.provider}: ${d.why}` });

  /** Refused with one of `statuses`, and never after verification (a malformed-callback 400 means the signature was accepted). */
  const refused =
    (statuses: readonly number[] = REFUSED) =>
    (req: bad.BadRequest, reply: bad.HttpReply) => {
      bad.expectRefused(req, reply, statuses);
      const text = reply.body.toString('utf8');
      if (text.includes('/problems/malformed-callback'))
        throw new Error(`a forged callback passed verification: ${text}\n  request: ${bad.describeRequest(req)}`);
    };

  const run = async (group: keyof typeof RUNS, arb: fc.Arbitrary<bad.BadRequest>, check: (req: bad.BadRequest, reply: bad.HttpReply) => void = refused()) => {
    reports[group] = await bad.assertEveryRequest(`provider-ingest/${group}`, RUNS[group], arb, ctx, check);
  };

  const anyProvider = () => fc.constantFrom(...providers);

  /* ------------------------------------------------------------- groups */

  it('refuses callbacks with missing, garbage or wrongly keyed signatures for every provider (401)', async () => {
    const arb = fc.tuple(anyProvider(), noise).chain(([p, n]) => forgedCallback(w, p, 'POST', '').map((d) => toRequest({ ...d, provider: p }, n)));
    await run('signatures', arb, refused([401, 431]));
  });

  it('refuses garbage, invalid UTF-8, oversized and badly encoded bodies of any content type (400, 401, 413, 415)', async () => {
    const framed = anyProvider().chain((p) =>
      fc
        .tuple(fc.constant(p), shapedBody[p])
        .chain(([, s]) =>
          fc
            .tuple(
              bad.brokenBody(s.body.toString('utf8'), BODY_LIMIT, { requireJson: false }),
              signatureHeaders(w, p, 'POST', w.fixtures[p].conn.url, s),
              noise,
            )
            .map(([b, sig, n]) =>
              toRequest({ provider: p, method: 'POST', query: '', headers: { ...b.headers, ...sig.headers }, body: b.body, why: `${b.why}, ${sig.why}` }, n),
            ),
        ),
    );
    const garbage = anyProvider().chain((p) =>
      fc.tuple(garbageBody(p), anyContentType, fc.boolean(), noise).chain(([g, ct, compress, n]) => {
        const bytes = Buffer.isBuffer(g.body) ? g.body : Buffer.from(g.body, 'utf8');
        const body = compress ? gzipSync(bytes) : bytes;
        return signatureHeaders(w, p, 'POST', w.fixtures[p].conn.url, { body: bytes, contentType: ct }).map((sig) =>
          toRequest(
            {
              provider: p,
              method: 'POST',
              query: '',
              headers: { ...(ct === undefined ? {} : { 'content-type': ct }), ...(compress ? { 'content-encoding': 'gzip' } : {}), ...sig.headers },
              body,
              why: `${g.why}${compress ? ' (gzip)' : ''} as ${ct ?? 'no content type'}, ${sig.why}`,
            },
            n,
          ),
        );
      }),
    );
    const oversized = fc
      .tuple(anyProvider(), bad.oversizedBody(BODY_LIMIT), anyContentType, noise)
      .map(([p, o, ct, n]) =>
        toRequest(
          { provider: p, method: 'POST', query: '', headers: { ...o.headers, ...(ct === undefined ? {} : { 'content-type': ct }) }, body: o.body, why: o.why },
          n,
        ),
      );
    await run(
      'bodies',
      fc.oneof({ weight: 3, arbitrary: framed }, { weight: 4, arbitrary: garbage }, { weight: 1, arbitrary: oversized }),
      refused([400, 401, 413, 415]),
    );
  });

  it('refuses malformed multipart posts, where a body is read before the signature is checked (401)', async () => {
    // Mailgun reads its signature out of the form; the others must refuse without reading it.
    const provider = fc.oneof(
      { weight: 4, arbitrary: fc.constant<Provider>('mailgun') },
      { weight: 2, arbitrary: fc.constant<Provider>('sendgrid_inbound') },
      { weight: 2, arbitrary: anyProvider() },
    );
    const arb = fc
      .tuple(provider, multipartGarbage, noise)
      .chain(([p, m, n]) =>
        signatureHeaders(w, p, 'POST', w.fixtures[p].conn.url, { body: m.body, contentType: m.contentType }).map((sig) =>
          toRequest(
            { provider: p, method: 'POST', query: '', headers: { 'content-type': m.contentType, ...sig.headers }, body: m.body, why: `${m.why}, ${sig.why}` },
            n,
          ),
        ),
      );
    await run('multipart', arb, refused([401, 413]));
  });

  it('refuses POSTs with random query parameters, signed (wrongly) over the URL with that query (401)', async () => {
    const providerKeys = [
      'bodySHA256',
      'sig',
      'timestamp',
      'nonce',
      'hub.mode',
      'hub.verify_token',
      'hub.challenge',
      'statusDatetime',
      'id',
      'status',
      'messageId',
      'MessageSid',
      'Action',
      'SubscribeURL',
    ];
    const specs = providerKeys.map((name) => ({ name, valid: () => true }));
    const q = fc.oneof(
      bad.anyQuery(specs),
      fc
        .array(
          fc.tuple(
            fc.constantFrom(...providerKeys),
            fc.oneof(
              hexString(0, 64),
              bad.nastyString.filter((s) => s.length < 300),
              timestampArb,
            ),
          ),
          { minLength: 1, maxLength: 6 },
        )
        .map((e) => query(e)),
    );
    const arb = fc
      .tuple(anyProvider(), q, noise)
      .chain(([p, rawQuery, n]) => forgedCallback(w, p, 'POST', rawQuery).map((d) => toRequest({ ...d, provider: p }, { ...n })));
    await run('queries', arb, refused([401, 431]));
  });

  it('refuses GETs: forged handshakes to Meta (403), forged reports to Vonage, MessageBird and Plivo (401), GET elsewhere (405)', async () => {
    const real = w.fixtures.meta_whatsapp.credentials.verify_token;
    const value = fc.oneof(
      token,
      bad.nastyString.filter((s) => s.length < 500),
      hexString(32, 32),
      fc.constant(''),
    );
    const metaQuery = fc
      .tuple(
        fc.option(fc.oneof({ weight: 4, arbitrary: fc.constant('subscribe') }, fc.constant('Subscribe'), value), { nil: undefined, freq: 6 }),
        fc.option(fc.oneof(value, wrongKey), { nil: undefined, freq: 6 }),
        fc.option(fc.oneof(value, fc.integer().map(String), bad.hugeString(1_000, 8_000)), { nil: undefined, freq: 6 }),
        fc.array(fc.tuple(fc.oneof(fc.constantFrom('hub.mode', 'hub.verify_token', 'hub.challenge', 'hub_mode', 'hub.topic'), token), value), { maxLength: 3 }),
        fc.boolean(),
      )
      .map(([mode, tok, challenge, extra, rawJunk]) => {
        const entries: Array<[string, string]> = [];
        if (mode !== undefined) entries.push(['hub.mode', mode]);
        if (tok !== undefined) entries.push(['hub.verify_token', tok]);
        if (challenge !== undefined) entries.push(['hub.challenge', challenge]);
        return `${query([...entries, ...extra])}${rawJunk ? '&%' : ''}`;
      })
      .filter((q) => new URLSearchParams(q).get('hub.verify_token') !== real && !q.includes(real));
    const metaGet = fc
      .tuple(metaQuery, noise)
      .map(([q, n]) =>
        toRequest({ provider: 'meta_whatsapp', method: 'GET', query: q, headers: {}, body: undefined, why: 'handshake with a wrong verify token' }, n),
      );
    const reportGet = fc
      .tuple(fc.constantFrom<Provider>('vonage', 'messagebird', 'plivo'), fc.option(bad.anyQuery([]), { nil: '' }), noise)
      .chain(([p, q, n]) => forgedCallback(w, p, 'GET', q).map((d) => toRequest({ ...d, provider: p }, n)));
    const otherGet = fc
      .tuple(
        fc.constantFrom(...providers.filter((p) => !['vonage', 'messagebird', 'plivo', 'meta_whatsapp'].includes(p))),
        fc.option(bad.anyQuery([]), { nil: '' }),
        noise,
      )
      .chain(([p, q, n]) =>
        forgedCallback(w, p, 'POST', q).map((d) => toRequest({ ...d, provider: p, method: 'GET', body: undefined, why: `GET, ${d.why}` }, n)),
      );
    const arb = fc.oneof({ weight: 3, arbitrary: metaGet }, { weight: 3, arbitrary: reportGet }, { weight: 2, arbitrary: otherGet });
    await run('gets', arb, (req, reply) => {
      const expected = req.why.startsWith('meta_whatsapp')
        ? 403
        : req.why.startsWith('vonage') || req.why.startsWith('messagebird') || req.why.startsWith('plivo')
          ? 401
          : 405;
      refused([expected, 431])(req, reply);
      if (reply.status === 405 && reply.headers.allow !== 'POST')
        throw new Error(`405 without "Allow: POST": ${String(reply.headers.allow)}\n  request: ${bad.describeRequest(req)}`);
    });
  });

  it('refuses unknown provider names, unknown or mismatched connection ids and extra segments (400, 404)', async () => {
    const badProvider = fc
      .oneof(
        fc.stringMatching(/^[a-z_]{1,32}$/),
        fc.constantFrom(...providers).map((p) => p.toUpperCase()),
        fc.constantFrom(...providers).map((p) => `${p}x`),
        fc.constantFrom(...providers).map((p) => `${p}%00`),
        bad.badIdSegment([]),
        fc.constantFrom('..', '.', '%2e%2e', 'twilio', 'whatsapp', 'sendgrid%2Finbound', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype'),
      )
      .filter((s) => !/[/?#]/.test(s) && /^[\x21-\x7e]+$/.test(s) && !(PROVIDER_NAMES as readonly string[]).includes(bad.decodedSegment(s) ?? ''));
    const post = (p: string, id: string, rest = '') =>
      fc.tuple(shapedBody.twilio_sms, noise).map(([s, n]) =>
        bad.request({
          method: 'POST',
          path: `/ingest/${p}/${id}${rest}`,
          headers: withNoise({ 'content-type': s.contentType ?? 'text/plain' }, n),
          body: s.body,
          why: `/ingest/${p.slice(0, 60)}/${id.slice(0, 60)}${rest.slice(0, 40)}`,
        }),
      );
    const arb = fc.oneof(
      // an unknown provider with a real connection id, or with any UUID
      fc.tuple(badProvider, fc.oneof(fc.constantFrom(...existingIds), fc.uuid())).chain(([p, id]) => post(p, id)),
      // a real provider with an id that names nothing
      fc.tuple(anyProvider(), bad.badIdSegment(existingIds)).chain(([p, id]) => post(p, id)),
      // a real provider with another provider's connection
      fc
        .tuple(anyProvider(), anyProvider(), fc.boolean())
        .filter(([p, q]) => p !== q)
        .chain(([p, q, upper]) => post(p, upper ? w.fixtures[q].conn.id.toUpperCase() : w.fixtures[q].conn.id)),
      // too few or too many segments
      fc
        .tuple(anyProvider(), fc.constantFrom('', '/', '/x', '/..', '/%2e%2e', '/ingest', '/callbacks', `/${'a'.repeat(300)}`))
        .chain(([p, rest]) => post(p, w.fixtures[p].conn.id, rest).map((r) => (rest === '' || rest === '/' ? { ...r, path: `/ingest/${p}${rest}` } : r))),
      fc
        .constantFrom(
          '/ingest',
          '/ingest/',
          '/ingest//',
          `/ingest//${existingIds[0]}`,
          '/',
          '/favicon.ico',
          '/v1/provider-connections',
          '/ingest/sendgrid/',
          '/INGEST/sendgrid/x',
        )
        .chain((path) => post('x', 'y').map((r) => ({ ...r, path, why: path }))),
    );
    await run('ids', arb, refused([400, 404, 431]));
    const metrics = await fetch(`${ingest.baseUrl}/metrics`).then((r) => r.text());
    const labels = new Set([...metrics.matchAll(/^hookhub_provider_callbacks_total\{[^}]*provider="([^"]*)"/gm)].map((m) => m[1]));
    const unbounded = [...labels].filter((l) => l !== 'other' && !(PROVIDER_NAMES as readonly string[]).includes(l));
    expect({ unboundedProviderLabels: unbounded.slice(0, 10), count: unbounded.length }).toEqual({ unboundedProviderLabels: [], count: 0 });
  });

  it('refuses every other method at every ingest path (405, or 400 for what HTTP/1.1 does not allow)', async () => {
    const METHODS = [
      'PUT',
      'PATCH',
      'DELETE',
      'OPTIONS',
      'TRACE',
      'HEAD',
      'PROPFIND',
      'MKCOL',
      'COPY',
      'MOVE',
      'LOCK',
      'UNLOCK',
      'PURGE',
      'SEARCH',
      'REPORT',
      'LINK',
      'M-SEARCH',
      'NOTIFY',
      'SUBSCRIBE',
      'QUERY',
      'FOO',
      'get',
      'Post',
    ];
    const arb = fc.tuple(anyProvider(), fc.constantFrom(...METHODS), fc.oneof(fc.constant(null), fc.uuid()), noise).chain(([p, m, other, n]) =>
      forgedCallback(w, p, 'POST', '').map((d) => {
        const r = toRequest({ ...d, provider: p, method: m as Method, body: m === 'HEAD' || m === 'TRACE' ? undefined : d.body, why: `${m}, ${d.why}` }, n);
        return other ? { ...r, path: r.path.replace(w.fixtures[p].conn.id, other) } : r;
      }),
    );
    await run('methods', arb, (req, reply) => {
      // Methods Node's parser does not know (or lower-case ones) are refused before routing.
      refused(HTTP_METHODS.includes(req.method) ? [405] : [400])(req, reply);
      if (reply.status === 405 && !/\bPOST\b/.test(String(reply.headers.allow))) throw new Error(`405 without Allow\n  request: ${bad.describeRequest(req)}`);
    });
  });

  it('refuses broken HTTP/1.1 framing at every provider path', async () => {
    const arb = anyProvider().chain((p) =>
      forgedCallback(w, p, 'POST', '').chain((d) => {
        const headers = Object.fromEntries(Object.entries(d.headers).filter(([k, v]) => k !== 'content-type' && v.length < 2_000 && /^[\x20-\x7e]*$/.test(v)));
        return bad
          .rawFramingAttack('POST', pathOf(p), { ...headers, 'Content-Type': d.headers['content-type'] ?? 'application/json' })
          .map((attack) => ({ ...attack, why: `${attack.why}, ${p}` }));
      }),
    );
    reports.framing = await bad.assertEveryRawRequest('provider-ingest/framing', RUNS.framing, arb, ctx);
  });

  it('answers GET noise at /healthz, /readyz and /metrics without a server error, and refuses everything else there', async () => {
    const paths = ['/healthz', '/readyz', '/metrics'];
    const getNoise = fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom('GET', 'GET', 'HEAD'), fc.option(bad.anyQuery([]), { nil: undefined }), noise)
      .map(([path, method, q, n]) => bad.request({ method, path: `${path}${q ? `?${q}` : ''}`, headers: withNoise({}, n), why: `noise: ${method} ${path}` }));
    const wrong = fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), garbageBody('sendgrid'), anyContentType, noise)
      .map(([path, method, g, ct, n]) =>
        bad.request({
          method,
          path,
          headers: withNoise(ct === undefined ? {} : { 'content-type': ct }, n),
          body: g.body,
          why: `${method} ${path} with ${g.why}`,
        }),
      );
    const extra = fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom('/x', '/', '/..', '.json', '%00', '/%2e%2e/ingest'))
      .map(([path, rest]) => bad.request({ method: 'GET', path: `${path}${rest}`, headers: {}, why: `GET ${path}${rest}` }));
    await run('health', fc.oneof(getNoise, wrong, extra), (req, reply) => {
      if (req.why.startsWith('noise:')) bad.expectNoServerError(req, reply);
      // Express treats a trailing slash as the same route.
      else if (req.why.startsWith('GET') && req.path.endsWith('/')) bad.expectNoServerError(req, reply);
      else refused([400, 404, 405, 413, 415])(req, reply);
    });
  });

  it('stored no callback and published no event in the whole run', async () => {
    // SideEffectProbe compared every table and stream after each request; this says the same in the terms of the issue.
    await new Promise((r) => setTimeout(r, 300));
    const db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    try {
      expect(Number((await db.query('SELECT count(*) AS n FROM provider_callbacks')).rows[0].n)).toBe(0);
    } finally {
      await db.end();
    }
    expect((await streamEvents(env, tenantId)).length).toBe(eventsBefore);
  });
});
