import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, WriteStream } from 'node:fs';
import { testLogFile } from '../support/test-logs';
import { sleep } from '../support/faults';

export type AppKind = 'subscriptions' | 'dispatcher' | 'provider-ingest';

/**
 * One app process of the soak on a fixed port, so that publishers, the
 * provider connection's signed URL and health checks find it again after a
 * restart. Its output goes to a log file of its own (appended across restarts).
 */
export class SupervisedApp {
  private child?: ChildProcess;
  private log?: WriteStream;
  /** Whether it is stopped by SIGSTOP right now. */
  paused = false;
  /** Starts after a fault. */
  restarts = 0;

  constructor(
    readonly name: string,
    readonly kind: AppKind,
    private readonly main: string,
    private readonly env: Record<string, string>,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Starts it and waits (up to `timeoutMs`) until /readyz says ready: the database or NATS may be down for a while. */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.log ??= createWriteStream(testLogFile(this.name), { flags: 'a' });
    const child = spawn(process.execPath, [this.main], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.paused = false;
    child.stdout?.on('data', (d: Buffer) => this.log?.write(d));
    child.stderr?.on('data', (d: Buffer) => this.log?.write(d));
    const deadline = Date.now() + timeoutMs;
    while (!(await this.ready())) {
      if (!this.running) throw new Error(`${this.name} exited during start (${child.exitCode ?? child.signalCode})`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms`);
      await sleep(250);
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` (a SIGTERM drain has its own limit). */
  async stop(signal: NodeJS.Signals, graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    if (this.paused) this.resume();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  pause(): void {
    if (!this.running) return;
    this.child?.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.running) return;
    this.child?.kill('SIGCONT');
    this.paused = false;
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) })).status === 200;
    } catch {
      return false;
    }
  }

  /** Resident memory in MiB (VmRSS), or undefined when not running. */
  rssMb(): number | undefined {
    const pid = this.pid;
    if (!pid) return undefined;
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kb ? Number(kb) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL').catch(() => undefined);
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
  }
}
