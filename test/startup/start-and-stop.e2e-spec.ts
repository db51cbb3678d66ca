import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { NATS_SERVER_BIN } from '../support/nats-server';
import { freePort } from '../support/processes';
import { TestReceiver } from '../support/receiver';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';
import { startTenantHub, stopTenantHub, subscribe, TenantHub } from '../support/tenant-hub';
import { testLogFile } from '../support/test-logs';

/**
 * The apps as processes, the way `npm start` and a container run them (dist/apps/<app>/main.js, built by
 * `npm run build`): each start-up failure ends quickly with exit code 1 and one line saying what is wrong
 * and what to do, without a stack trace; a ready line names the URLs; SIGINT and SIGTERM stop cleanly with
 * exit code 0. NATS servers with and without JetStream or credentials are started here on free loopback ports.
 */

const ROOT = join(__dirname, '..', '..');
const APPS = { subscriptions: 'SUBSCRIPTIONS_PORT', dispatcher: 'DISPATCHER_PORT', 'provider-ingest': 'PROVIDER_INGEST_PORT' } as const;
type AppName = keyof typeof APPS;

interface LogLine {
  level: number;
  time: string;
  service: string;
  msg: string;
}

/** One app process: its output as it comes, its exit. */
class AppRun {
  readonly output: string[] = [];
  readonly started = Date.now();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
  private readonly child: ChildProcess;

  constructor(
    readonly app: AppName,
    env: Record<string, string | number>,
  ) {
    const main = join(ROOT, 'dist', 'apps', app, 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
    // No inherited LOG_* or HOST from the shell that runs the tests: the assertions read JSON lines.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LOG_|HOST$|NATS_|STARTUP_)/.test(k)));
    const stringEnv = Object.fromEntries(Object.entries({ LOG_LEVEL: 'info', ...env }).map(([k, v]) => [k, String(v)]));
    this.child = spawn(process.execPath, [main], { env: { ...inherited, ...stringEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => void this.output.push(d.toString());
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal, afterMs: Date.now() - this.started })));
  }

  get text(): string {
    return this.output.join('');
  }

  /** Every line printed, parsed: all of them must be JSON log lines. */
  get lines(): LogLine[] {
    return this.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine);
  }

  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.text.includes('\n') ? this.lines.find((l) => pattern.test(l.msg)) : undefined;
      if (found) return found;
      if (this.child.exitCode !== null) throw new Error(`${this.app} exited with ${this.child.exitCode}:\n${this.text}`);
      if (Date.now() > deadline) throw new Error(`${this.app}: no line matching ${pattern}:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** A nats-server of this file: JetStream on or off, and an optional `authorization { … }` block. */
class LocalNats {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(options: { jetstream: boolean; authorization?: string }): Promise<LocalNats> {
    const dir = mkdtempSync(join(tmpdir(), 'hookhub-startup-nats-'));
    const port = await freePort();
    const config = [`listen: 127.0.0.1:${port}`];
    if (options.jetstream) config.push(`jetstream { store_dir: "${join(dir, 'store')}" }`);
    if (options.authorization) config.push(`authorization { ${options.authorization} }`);
    writeFileSync(join(dir, 'nats.conf'), config.join('\n'));
    // Without JetStream, the way the issue describes it: flags only, no configuration file.
    const args = options.jetstream || options.authorization ? ['-c', join(dir, 'nats.conf')] : ['-a', '127.0.0.1', '-p', String(port)];
    const child = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server not ready:\n${log}`)), 15_000);
      const read = (d: Buffer): void => {
        log += d.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('exit', () => reject(new Error(`nats-server exited:\n${log}`)));
    });
    return new LocalNats(`nats://127.0.0.1:${port}`, child, dir);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A loopback port nothing listens on. */
const unusedPort = (): Promise<number> => freePort();

describe('apps as processes: start-up failures, ready lines and clean stops', () => {
  let env: TestEnvironment;
  const runs: AppRun[] = [];

  const run = async (app: AppName, extra: Record<string, string | number> = {}): Promise<AppRun> => {
    // Logs to stdout at info, where the ready and stop lines are.
    const { LOG_DESTINATION: _file, LOG_LEVEL: _level, ...config } = env.config();
    const r = new AppRun(app, { ...(config as Record<string, string | number>), HOST: '127.0.0.1', [APPS[app]]: await freePort(), ...extra });
    runs.push(r);
    return r;
  };

  /**
   * The run ends with exit code 1 within `withinMs`, and its only output is one fatal line; returns that line.
   * `afterStart`: the app had started (NATS, PostgreSQL) when it failed, so its info lines come first.
   */
  const failsWithOneLine = async (r: AppRun, withinMs: number, afterStart = false): Promise<string> => {
    const { code, afterMs } = await r.exited;
    expect({ code, output: r.text }).toEqual({ code: 1, output: expect.any(String) });
    expect(afterMs).toBeLessThan(withinMs);
    const lines = r.lines.filter((l) => !afterStart || l.level > 30);
    expect(lines.map((l) => l.level)).toEqual([60]);
    expect(r.text).not.toMatch(/\n\s+at /);
    expect(lines[0].service).toBe(r.app);
    return lines[0].msg;
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
  });
  afterEach(() => runs.splice(0).forEach((r) => r.kill()));
  afterAll(async () => {
    await env?.teardown();
  });

  describe('configuration errors', () => {
    it('one line per bad variable, in the log format, naming the variable and what it accepts; exit 1', async () => {
      const r = await run('subscriptions', { NATS_URL: 'http://127.0.0.1:4222', DATABASE_POOL_SIZE: '0', ADMIN_TOKEN: '', HOST: 'not a host' });
      const { code, afterMs } = await r.exited;
      expect(code).toBe(1);
      expect(afterMs).toBeLessThan(5_000);
      expect(r.text).not.toMatch(/\n\s+at /);
      const lines = r.lines;
      expect(lines.every((l) => l.level === 60 && l.service === 'subscriptions' && typeof l.time === 'string')).toBe(true);
      expect(lines.map((l) => l.msg).sort()).toEqual([
        'invalid configuration: ADMIN_TOKEN is empty: unset it to use the default, or set at least 16 characters',
        'invalid configuration: DATABASE_POOL_SIZE must be a decimal integer from 1 to 100, got "0"',
        expect.stringMatching(/^invalid configuration: HOST must be an IP address or a host name/),
        expect.stringMatching(/^invalid configuration: NATS_URL must be a nats:\/\/ URL/),
      ]);
    });

    it('credentials that need each other, or exclude each other, are named together', async () => {
      const r = await run('dispatcher', { NATS_USER: 'hub', NATS_TOKEN: 'token' });
      await r.exited;
      expect(r.lines.map((l) => l.msg)).toEqual([
        'invalid configuration: NATS_USER is set but NATS_PASSWORD is not: set both, or neither; NATS_USER and NATS_TOKEN are both set: set only one of them',
      ]);
    });

    it('the lines of a bad configuration are readable lines too when LOG_PRETTY is on', async () => {
      const r = await run('provider-ingest', { LOG_PRETTY: 'true', INGEST_BODY_LIMIT: '0kb' });
      const { code } = await r.exited;
      expect(code).toBe(1);
      expect(r.text.trim().split('\n')).toEqual([expect.stringMatching(/FATAL.*invalid configuration: INGEST_BODY_LIMIT must be a size such as 512kb/)]);
    });
  });

  describe('what start-up waits for', () => {
    it('NATS unreachable: one line within STARTUP_WAIT_MS naming the URL and NATS_URL', async () => {
      const url = `nats://127.0.0.1:${await unusedPort()}`;
      const r = await run('dispatcher', { NATS_URL: url, STARTUP_WAIT_MS: 1_500 });
      const line = await failsWithOneLine(r, 1_500 + 6_000);
      expect(line).toBe(
        `NATS is not reachable at ${url} (connection refused for 1.5 s): start nats-server with -js, or set NATS_URL to where it runs (STARTUP_WAIT_MS sets the wait)`,
      );
    });

    it('NATS without JetStream: one line saying to start it with -js', async () => {
      const nats = await LocalNats.start({ jetstream: false });
      try {
        const r = await run('subscriptions', { NATS_URL: nats.url });
        const line = await failsWithOneLine(r, 8_000);
        expect(line).toBe(
          `NATS at ${nats.url} has JetStream disabled: start nats-server with -js (or a jetstream {} block in its configuration), or point NATS_URL at one that has it`,
        );
      } finally {
        await nats.stop();
      }
    });

    it('PostgreSQL down: one line within STARTUP_WAIT_MS naming the server and DATABASE_URL', async () => {
      const port = await unusedPort();
      const r = await run('provider-ingest', { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/hookhub`, STARTUP_WAIT_MS: 1_500 });
      const line = await failsWithOneLine(r, 1_500 + 6_000);
      expect(line).toBe(
        `PostgreSQL is not reachable at 127.0.0.1:${port} (connection refused for 1.5 s): start it, or set DATABASE_URL to where it runs (STARTUP_WAIT_MS sets the wait)`,
      );
    });

    it('the port taken: one line naming the address and the port variable', async () => {
      const port = await freePort();
      const holder: Server = createServer();
      await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
      try {
        const r = await run('subscriptions', { SUBSCRIPTIONS_PORT: port });
        const line = await failsWithOneLine(r, 15_000, true);
        expect(line).toBe(
          `subscriptions cannot listen on 127.0.0.1:${port}: the port is in use (another copy still running?); stop it or set SUBSCRIPTIONS_PORT`,
        );
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    });
  });

  describe('ready lines and clean stops', () => {
    it.each([
      [
        'subscriptions',
        'SIGINT',
        /^subscriptions listening on http:\/\/127\.0\.0\.1:(\d+), docs at http:\/\/127\.0\.0\.1:\d+\/docs \(ready [\d.]+ s after start\)$/,
      ],
      [
        'dispatcher',
        'SIGTERM',
        /^dispatcher consuming T\w+_EVENTS as dispatcher and T\w+_RETRIES as retry, metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics, health on http:\/\/127\.0\.0\.1:\d+\/readyz \(ready/,
      ],
      ['provider-ingest', 'SIGINT', /^provider-ingest listening on http:\/\/127\.0\.0\.1:(\d+), provider callbacks at http:\/\/127\.0\.0\.1:\d+\/ingest\//],
    ] as const)('%s says where it listens, and on %s stops cleanly with exit code 0', async (app, signal, ready) => {
      const r = await run(app);
      const line = await r.waitForLine(ready);
      const port = Number(ready.exec(line.msg)?.[1]);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      r.signal(signal);
      const { code, signal: killedBy } = await r.exited;
      expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
      const tail = r.lines.slice(-2).map((l) => l.msg);
      expect(tail).toEqual([`${app} stopping (${signal})`, `${app} stopped cleanly`]);
      expect(r.lines.every((l) => l.level < 50)).toBe(true);
    });

    it('at info a start-up is a handful of lines, not a line per module and route, with ISO times', async () => {
      const r = await run('subscriptions');
      await r.waitForLine(/listening on/);
      r.signal('SIGTERM');
      await r.exited;
      expect(r.lines.length).toBeLessThan(15);
      expect(r.lines.map((l) => l.msg)).not.toContainEqual(expect.stringMatching(/^Mapped \{/));
      for (const l of r.lines) expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });
  });

  describe('NATS credentials', () => {
    let userNats: LocalNats;
    let tokenNats: LocalNats;
    beforeAll(async () => {
      [userNats, tokenNats] = await Promise.all([
        LocalNats.start({ jetstream: true, authorization: 'user: hookhub, password: "right-password"' }),
        LocalNats.start({ jetstream: true, authorization: 'token: "right-token"' }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([userNats?.stop(), tokenNats?.stop()]);
    });

    it.each([
      ['user and password', () => userNats, { NATS_USER: 'hookhub', NATS_PASSWORD: 'right-password' }],
      ['a token', () => tokenNats, { NATS_TOKEN: 'right-token' }],
    ])('connects with %s and runs', async (_what, server, credentials) => {
      const r = await run('dispatcher', { NATS_URL: server().url, ...credentials });
      await r.waitForLine(/^dispatcher consuming /);
      r.signal('SIGTERM');
      expect((await r.exited).code).toBe(0);
    });

    it.each([
      ['a wrong password', () => userNats, { NATS_USER: 'hookhub', NATS_PASSWORD: 'wrong' }, 'user hookhub (NATS_USER/NATS_PASSWORD)'],
      ['no credentials', () => userNats, {}, 'no credentials'],
      ['a wrong token', () => tokenNats, { NATS_TOKEN: 'wrong' }, 'a token (NATS_TOKEN)'],
    ])('refused with %s: one line at once, naming the credential variables and never the secret', async (_what, server, credentials, presented) => {
      const r = await run('subscriptions', { NATS_URL: server().url, STARTUP_WAIT_MS: 30_000, ...credentials });
      const line = await failsWithOneLine(r, 8_000);
      expect(line).toBe(
        `NATS at ${server().url} refused the connection with ${presented} (Authorization Violation): set NATS_USER and NATS_PASSWORD, NATS_TOKEN or NATS_CREDS_FILE to what the server expects`,
      );
      expect(r.text).not.toContain('wrong');
    });
  });
});

describe('one log line per delivery attempt at debug', () => {
  let ctx: TenantHub;
  let receiver: TestReceiver;
  const logFile = testLogFile('attempt-lines');

  beforeAll(async () => {
    ctx = await startTenantHub({ LOG_LEVEL: 'debug', LOG_DESTINATION: logFile });
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await stopTenantHub(ctx);
  });

  it('says subscription, delivery, attempt, status code and duration, for a failure and for the success after it', async () => {
    receiver.respond = (_req, i) => (i === 0 ? { status: 500, body: 'boom' } : { status: 200, body: 'ok' });
    const subscriptionId = await subscribe(ctx, { url: `${receiver.url}/hook`, event_types: ['ticket.created'], retry_policy_ms: [200] });
    const res = await ctx.hub.api.request('POST', '/v1/events', {
      token: ctx.publisher,
      body: { id: 'evt-logged', type: 'ticket.created', model_id: 't-1', model: { id: 't-1' } },
    });
    expect(res.status).toBe(202);
    const requests = await receiver.waitFor(2, 15_000);
    const deliveryId = requests[0].headers['x-webhook-delivery'];
    await eventually(() => {
      const attempts = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"context":"AttemptSettlement"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.deliveryId === deliveryId);
      expect(attempts).toEqual([
        expect.objectContaining({
          level: 20,
          subscriptionId,
          deliveryId,
          attempt: 1,
          responseStatus: 500,
          status: 'retrying',
          durationMs: expect.any(Number),
          msg: expect.stringMatching(new RegExp(`^attempt 1 of delivery ${deliveryId}: 500 in \\d+ ms, retrying$`)),
        }),
        expect.objectContaining({
          level: 20,
          subscriptionId,
          deliveryId,
          attempt: 2,
          responseStatus: 200,
          status: 'delivered',
          msg: expect.stringMatching(/^attempt 2 of delivery .*: 200 in \d+ ms, delivered$/),
        }),
      ]);
    });
  });
});
