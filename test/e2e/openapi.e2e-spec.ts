import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { RunningHub, startHub } from '../support/hub';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

type Doc = {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation> & { servers?: Array<{ url: string }> }>;
  webhooks: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { scheme: string; bearerFormat?: string }> };
};
type Operation = {
  operationId: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

const REPO = resolve(__dirname, '../..');
/** A field with a default may be left out of a request: by default openapi-typescript would make it required. */
const GENERATOR_FLAGS = ['--default-non-nullable', 'false'];
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations = (paths: Doc['paths'] | Doc['webhooks']): Array<[string, Operation]> =>
  Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => [`${method.toUpperCase()} ${path}`, op as Operation] as [string, Operation]),
  );

/**
 * The OpenAPI document is what clients are generated from: it must be a
 * valid OpenAPI 3.1 document, describe every error and the webhooks the hub
 * sends, and generate types a typed client compiles against.
 */
describe('OpenAPI document', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let doc: Doc;
  let text: string;
  const ingestUrl = 'https://hooks.acme.example';

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env, { INGEST_PUBLIC_URL: ingestUrl }, { dispatchers: 0 });
    const res = await hub.api.request<Doc>('GET', '/docs-json');
    expect(res.status).toBe(200);
    doc = res.body;
    text = res.text;
  });

  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  it('is a valid OpenAPI 3.1 document', () => {
    // The validator is an ES module, which this Jest setup cannot import: its CLI runs in a child process.
    const dir = mkdtempSync(join(tmpdir(), 'hookhub-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), text);
      const run = spawnSync(
        process.execPath,
        [join(REPO, 'node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js'), join(dir, 'openapi.json')],
        {
          encoding: 'utf8',
        },
      );
      const result = JSON.parse(run.stdout) as { valid: boolean; errors?: unknown };
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(doc.openapi).toBe('3.1.0');
    expect(text).not.toContain('"nullable"');
  });

  it('names operations as a generated client would call them, each once', () => {
    const ids = operations(doc.paths).map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/);
    expect(ids).toEqual(expect.arrayContaining(['subscriptions.create', 'subscriptions.list', 'apiKeys.list', 'tenants.list', 'events.publish', 'events.get']));
  });

  it('gives every response a description and every error the RFC 9457 problem schema', () => {
    for (const [name, op] of operations(doc.paths)) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect(`${name} ${status}: ${response.description}`).not.toMatch(/: $/);
        if (status === 'default' || Number(status) >= 400) {
          expect([name, status, response.content?.['application/problem+json']?.schema]).toEqual([name, status, { $ref: '#/components/schemas/Problem' }]);
        }
      }
      if (op.security?.length) expect([name, Object.keys(op.responses)]).toEqual([name, expect.arrayContaining(['401'])]);
      if (op.parameters?.some((p) => p.in === 'path')) expect([name, Object.keys(op.responses)]).toEqual([name, expect.arrayContaining(['404'])]);
    }
  });

  it('describes API keys as opaque bearer keys, and the servers', () => {
    for (const scheme of Object.values(doc.components.securitySchemes)) {
      expect(scheme.scheme).toBe('bearer');
      expect(scheme.bearerFormat).toBeDefined();
      expect(scheme.bearerFormat).not.toMatch(/jwt/i);
    }
    expect(doc.servers.length).toBeGreaterThan(0);
    expect(doc.paths['/ingest/{provider}/{connectionId}'].servers).toEqual([expect.objectContaining({ url: ingestUrl })]);
  });

  it('describes the webhooks the hub sends: payloads, headers and the three signature schemes', () => {
    const event = doc.webhooks.event.post;
    const headers = (event.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(
      expect.arrayContaining([
        'X-Webhook-Event',
        'X-Webhook-Delivery',
        'X-Webhook-Signature',
        'Enchant-Signature',
        'webhook-id',
        'webhook-timestamp',
        'webhook-signature',
      ]),
    );
    expect(doc.webhooks.thinNotification.post).toBeDefined();
    expect(doc.webhooks.verification.get).toBeDefined();
    expect(doc.components.schemas['Event.ticket.created']).toBeDefined();
  });

  it('generates TypeScript types that a typed client compiles against', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookhub-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), text);
      execFileSync(
        process.execPath,
        [join(REPO, 'node_modules/openapi-typescript/bin/cli.js'), join(dir, 'openapi.json'), '-o', join(dir, 'hookhub-api.ts'), ...GENERATOR_FLAGS],
        {
          stdio: 'pipe',
        },
      );
      writeFileSync(join(dir, 'client.ts'), TYPED_CLIENT);
      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: [],
        skipLibCheck: true,
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A small client typed by the generated `paths`/`operations`: it compiles only if the document describes the API as it is used. */
const TYPED_CLIENT = `
import type { components, operations, paths } from './hookhub-api';

type Problem = components['schemas']['Problem'];
type CreateBody = paths['/v1/subscriptions']['post']['requestBody']['content']['application/json'];
type Created = operations['subscriptions.create']['responses']['201']['content']['application/json'];
type KeyPage = operations['apiKeys.list']['responses']['200']['content']['application/json'];
type StoredEvent = operations['events.get']['responses']['200']['content']['application/json'];
type FullEvent = components['schemas']['Event'];

export async function createSubscription(base: string, key: string, body: CreateBody): Promise<Created | Problem> {
  const res = await fetch(base + '/v1/subscriptions', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Created | Problem;
}

export function isProblem(x: Created | Problem): x is Problem {
  return 'status' in x && 'title' in x;
}

export const body: CreateBody = { url: 'https://hooks.example.com/h', event_types: ['ticket.created'], signature_scheme: 'standard-webhooks' };
// @ts-expect-error the document knows the fields of a subscription
export const wrong: CreateBody = { url: 'https://hooks.example.com/h', event_types: ['ticket.created'], colour: 'red' };
export const state: Created['state'] = 'blocked';
export const apiKeyId: Created['api_key_id'] = null;
export const cursor: KeyPage['next_cursor'] = null;
export const firstKeyName = (page: KeyPage): string | undefined => page.items[0]?.name;
export const eventType = (e: StoredEvent): string => e.type;
export const problemErrors = (p: Problem): string[] => (p.errors ?? []).map((e) => e.pointer + ' ' + e.detail);
export const deliveredType = (e: FullEvent): string => e.type;
`;
