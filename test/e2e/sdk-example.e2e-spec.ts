import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { logRun } from '../support/test-logs';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../..');
const SDK = join(REPO, 'libs/sdk');
const EXAMPLE = join(REPO, 'examples/nestjs-publisher');
const DOC = readFileSync(join(REPO, 'docs/sdk.md'), 'utf8');
const DOC_BLOCKS = ['client', 'verify', 'jetstream', 'nestjs'];
const ROOT_DEPENDENCIES = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;

/** The TypeScript block of docs/sdk.md right after `<!-- sdk-doc-test: <name> -->`. */
function docBlock(name: string): string {
  const match = new RegExp(`<!-- sdk-doc-test: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(DOC);
  if (!match) throw new Error(`docs/sdk.md has no ts block marked sdk-doc-test: ${name}`);
  return match[1];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * npm run from `npm test` passes its own settings down in npm_config_*; the
 * prefix among them would make the example's install write into this
 * repository. The example is installed as a user would, in its own folder.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_config_(prefix|local_prefix|global_prefix)$/i.test(key) || /^npm_(package|lifecycle)_/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return env;
}

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await step();
  logRun(`${what}: ${Date.now() - started} ms`);
  return result;
}

/**
 * The example project as a user gets it: the SDK packed with `npm pack`, the
 * example installed from that tarball in a folder of its own (npm, offline
 * where the cache has everything), compiled against the tarball's type
 * declarations, and run against the real hub: it publishes through the
 * NestJS module, receives the webhook on its loopback receiver and verifies it.
 */
describe('examples/nestjs-publisher, installed from the SDK’s npm pack tarball', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  let dir: string;
  let app: string;
  let tenantId: string;
  let adminKey: string;
  let publisherKey: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookhub-sdk-example-'));
    // Packed from a copy (with the repository's node_modules to build with), so the build lands in no shared working tree.
    const sdk = join(dir, 'sdk');
    cpSync(SDK, sdk, { recursive: true, filter: (src) => !/[/\\](dist|node_modules)$|\.tgz$/.test(src) });
    symlinkSync(join(REPO, 'node_modules'), join(sdk, 'node_modules'));
    const [packed] = await timed('npm pack (builds the SDK)', async () => {
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: sdk, env: npmEnv() });
      return JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    });
    // The tarball holds the build and nothing of the sources or tests.
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/jetstream/index.js', 'dist/nestjs/index.js']));
    expect(files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md')).toEqual([]);
    expect(files.filter((f) => /\.spec\./.test(f))).toEqual([]);

    app = join(dir, 'example');
    cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies['@hookhub/sdk']).toMatch(/^file:.*\.tgz$/);
    manifest.dependencies['@hookhub/sdk'] = `file:../${packed.filename}`;
    // docs/sdk.md's blocks also use nats and @nestjs/config: the versions this repository has (so npm's cache has them).
    for (const name of ['nats', '@nestjs/config']) manifest.dependencies[name] = ROOT_DEPENDENCIES[name];
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    mkdirSync(join(app, 'doc-snippets'));
    for (const name of DOC_BLOCKS) writeFileSync(join(app, 'doc-snippets', `${name}.ts`), docBlock(name));
    writeFileSync(
      join(app, 'tsconfig.docs.json'),
      JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'doc-snippets', outDir: 'doc-dist' }, include: ['doc-snippets/*.ts'] }),
    );
    await timed('npm install of the example', () =>
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: npmEnv() }),
    );
    // Installed from the tarball: a folder of its own, not a link to libs/sdk.
    const installed = join(app, 'node_modules/@hookhub/sdk');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(readdirSync(installed).sort()).toEqual(expect.arrayContaining(['dist', 'package.json']));
    expect(existsSync(join(installed, 'src'))).toBe(false);
    const tsc = join(app, 'node_modules/typescript/bin/tsc');
    await timed('tsc of the example and of the docs’ blocks', () =>
      Promise.all([run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }), run(process.execPath, [tsc, '-p', 'tsconfig.docs.json'], { cwd: app })]),
    );

    env = await createTestEnvironment();
    hub = await startHub(env);
    const tenant = await hub.api.createTenant('Example');
    tenantId = tenant.tenantId;
    adminKey = tenant.adminKey;
    publisherKey = (await hub.api.createKey(tenant.tenantId, ['publisher'])).key;
  }, 180_000);

  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(['standard-webhooks', 'sha256'])('publishes, receives and verifies a real delivery (%s)', async (scheme) => {
    const { stdout } = await timed(`example run (${scheme})`, () =>
      run(process.execPath, ['dist/main.js'], {
        cwd: app,
        env: { PATH: process.env.PATH, HOOKHUB_URL: hub.api.baseUrl, HOOKHUB_API_KEY: adminKey, SIGNATURE_SCHEME: scheme },
        timeout: 30_000,
      }),
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, string | boolean>;
    expect(result).toEqual({
      verified: true,
      scheme,
      event_id: expect.any(String),
      event_type: 'ticket.created',
      model_id: expect.stringMatching(/^t-/),
      delivery_id: expect.any(String),
    });
    // The event is the hub's: recorded in its event log under the id the SDK chose.
    await eventually(async () => {
      const recorded = await hub.api.request<{ id: string; type: string }>('GET', `/v1/events/${String(result.event_id)}`, { token: publisherKey });
      expect([recorded.status, recorded.body.type]).toEqual([200, 'ticket.created']);
    });
  });

  describe('docs/sdk.md’s code, compiled against the tarball and run against the hub', () => {
    const runDoc = async (name: string, vars: Record<string, string>): Promise<string> =>
      (
        await timed(`docs block ${name}`, () =>
          run(process.execPath, [`doc-dist/${name}.js`], { cwd: app, env: { PATH: process.env.PATH, ...vars }, timeout: 30_000 }),
        )
      ).stdout;
    const recorded = (id: string): Promise<void> =>
      eventually(async () => expect((await hub.api.request('GET', `/v1/events/${id}`, { token: publisherKey })).status).toBe(200));

    it('client: publishes, reads the typed API and catches a problem', async () => {
      const out = await runDoc('client', { HOOKHUB_URL: hub.api.baseUrl, HOOKHUB_API_KEY: adminKey });
      const [, id] = /^published ([0-9a-f-]{36}) duplicate: false$/m.exec(out) ?? [];
      expect(out).toMatch(/^subscriptions: \d+$/m);
      expect(out).toMatch(/^refused 422 \S+\/invalid-event \[\{"pointer":"#\/model\/id","detail":"must equal model_id"\}\]$/m);
      await recorded(id);
    });

    it('verify: the receiver verifies a real standard-webhooks delivery', async () => {
      const port = await freePort();
      const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
      const receiver = spawn(process.execPath, ['doc-dist/verify.js'], {
        cwd: app,
        env: { PATH: process.env.PATH, PORT: String(port), WEBHOOK_SECRETS: secret },
      });
      let out = '';
      receiver.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      try {
        const sub = await hub.api.request<{ id: string }>('POST', '/v1/subscriptions', {
          token: adminKey,
          body: { url: `http://127.0.0.1:${port}/hook`, event_types: ['survey.response_completed'], signature_scheme: 'standard-webhooks', secret },
        });
        expect(sub.status).toBe(201);
        const model = { id: 'r-doc', survey_id: 's-1', ticket_id: 't-1', score: 9, completed_at: '2024-05-01T10:00:00Z' };
        const published = await hub.api.request('POST', '/v1/events', {
          token: publisherKey,
          body: { id: 'evt-doc-verify', type: 'survey.response_completed', model_id: 'r-doc', model },
        });
        expect(published.status).toBe(202);
        await eventually(() => expect(out).toMatch(/^verified survey\.response_completed evt-doc-verify delivery [0-9a-f-]{36}$/m), 15_000);
        expect(out).not.toMatch(/refused/);
        await hub.api.request('DELETE', `/v1/subscriptions/${sub.body.id}`, { token: adminKey });
      } finally {
        receiver.kill();
      }
    });

    it('jetstream: validates and publishes straight to the tenant’s subject', async () => {
      const out = await runDoc('jetstream', {
        NATS_URL: env.natsUrl,
        JETSTREAM_PREFIX: env.prefix,
        HOOKHUB_TENANT_ID: tenantId,
        HOOKHUB_URL: hub.api.baseUrl,
        HOOKHUB_API_KEY: publisherKey,
      });
      expect(out).toMatch(new RegExp(`^stored ${env.prefix}\\.events\\.${tenantId}\\.ticket\\.updated seq \\d+ schema version \\d+$`, 'm'));
    });

    it('nestjs: a service publishes through HookhubModule.forRootAsync with ConfigService', async () => {
      const out = await runDoc('nestjs', { HOOKHUB_URL: hub.api.baseUrl, HOOKHUB_API_KEY: publisherKey });
      const [, id] = /^published ([0-9a-f-]{36})$/m.exec(out) ?? [];
      await recorded(id);
    });
  });
});
