import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/eventually';
import { RunningHub, startHub } from '../support/hub';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { logRun } from '../support/test-logs';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../..');
const SDK = join(REPO, 'libs/sdk');
const EXAMPLE = join(REPO, 'examples/nestjs-publisher');

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
  let adminKey: string;
  let publisherKey: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookhub-sdk-example-'));
    const [packed] = await timed('npm pack (builds the SDK)', async () => {
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: SDK, env: npmEnv() });
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
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    await timed('npm install of the example', () =>
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: npmEnv() }),
    );
    // Installed from the tarball: a folder of its own, not a link to libs/sdk.
    const installed = join(app, 'node_modules/@hookhub/sdk');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(readdirSync(installed).sort()).toEqual(expect.arrayContaining(['dist', 'package.json']));
    expect(existsSync(join(installed, 'src'))).toBe(false);
    await timed('tsc of the example', () => run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app }));

    env = await createTestEnvironment();
    hub = await startHub(env);
    const tenant = await hub.api.createTenant('Example');
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
});
