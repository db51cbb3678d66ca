import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './processes';

/** The nats-server binary the fault tests start (v2.9.10 on the CI machines). */
export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A nats-server process owned by a test: started with JetStream on a free
 * loopback port and its own store directory, so a test can kill and restart
 * it without touching the machine's shared server.
 */
export class NatsServerProcess {
  private child?: ChildProcess;
  /** The server's log lines (it logs to stderr), newest last, capped. */
  readonly log: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Starts the process and resolves once JetStream answers API requests on this server. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const child = spawn(NATS_SERVER_BIN, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer): void => {
      this.log.push(...d.toString().split('\n').filter(Boolean));
      if (this.log.length > 400) this.log.splice(0, this.log.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await this.waitForJetStream(timeoutMs);
  }

  /** Stops the process with `signal`; SIGKILL if it is still alive after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stops with `signal`, stays down for `downMs`, starts again on the same port and store directory. */
  async restart(signal: NodeJS.Signals, downMs: number): Promise<void> {
    await this.stop(signal);
    await sleep(downMs);
    await this.start();
  }

  tail(lines = 30): string {
    return this.log.slice(-lines).join('\n');
  }

  private async waitForJetStream(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited (${this.child?.exitCode ?? this.child?.signalCode}):\n${this.tail()}`);
      try {
        const nc = await connect({ servers: this.url, timeout: 1_000, reconnect: false });
        try {
          const jsm = await nc.jetstreamManager({ timeout: 2_000 });
          await jsm.getAccountInfo();
          return;
        } finally {
          await nc.close();
        }
      } catch (err) {
        last = err;
        await sleep(100);
      }
    }
    throw new Error(`${this.name} JetStream not ready within ${timeoutMs} ms (${String(last)}):\n${this.tail()}`);
  }
}

/** One JetStream server: `nats-server -a 127.0.0.1 -p <port> -js -sd <tmp>/store`. Call `destroy()` in afterAll. */
export class NatsServer {
  private constructor(
    readonly server: NatsServerProcess,
    readonly dir: string,
  ) {}

  static async start(): Promise<NatsServer> {
    const dir = mkdtempSync(join(tmpdir(), 'hookhub-nats-'));
    const port = await freePort();
    const server = new NatsServerProcess('nats', port, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')]);
    const nats = new NatsServer(server, dir);
    try {
      await server.start();
    } catch (err) {
      await nats.destroy();
      throw err;
    }
    return nats;
  }

  get url(): string {
    return this.server.url;
  }

  /** Kills the process (if running) and removes the store directory. */
  async destroy(): Promise<void> {
    await this.server.stop('SIGKILL').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Three (or more) JetStream servers on loopback forming one cluster: each has
 * its own config file, `server_name`, client port, route port and store
 * directory, and routes to all the others.
 */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsServerProcess[],
    readonly dir: string,
  ) {}

  static async start(size = 3): Promise<NatsCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'hookhub-nats-cluster-'));
    const clusterName = `hookhub-faults-${Date.now().toString(36)}`;
    const ports: Array<{ client: number; route: number }> = [];
    for (let i = 0; i < size; i++) ports.push({ client: await freePort(), route: await freePort() });
    const nodes = ports.map((p, i) => {
      const name = `n${i + 1}`;
      const routes = ports.filter((_, j) => j !== i).map((o) => `nats-route://127.0.0.1:${o.route}`);
      const config = [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream {`,
        `  store_dir: "${join(dir, name, 'store')}"`,
        `}`,
        `cluster {`,
        `  name: ${clusterName}`,
        `  listen: 127.0.0.1:${p.route}`,
        `  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`,
        `}`,
        '',
      ].join('\n');
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, config);
      return new NatsServerProcess(name, p.client, ['-c', file]);
    });
    const cluster = new NatsCluster(nodes, dir);
    try {
      // JetStream in a cluster answers only once a meta leader is elected, which needs a quorum: start all, then wait.
      await Promise.all(nodes.map((n) => n.start(60_000)));
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** Every node's client URL, comma-separated, as the apps' NATS_URL takes them. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  node(name: string): NatsServerProcess {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL').catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
