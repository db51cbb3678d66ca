import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { testLogFile } from './test-logs';

const ROOT = join(__dirname, '..', '..');

/** Builds an app with the Nest CLI so tests can run it as a real process. */
export function buildApp(app: string): string {
  execFileSync(join(ROOT, 'node_modules', '.bin', 'nest'), ['build', app], { cwd: ROOT, stdio: 'pipe' });
  return join(ROOT, 'dist', 'apps', app, 'main.js');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface AppProcess {
  child: ChildProcess;
  port: number;
  /** Everything the process printed (its JSON log lines included), also written to the test file's logs. */
  output: string[];
}

/** Starts a built app as a child process and resolves once its /readyz answers 200. */
export async function startAppProcess(main: string, env: Record<string, string | number | boolean>, portVariable: string): Promise<AppProcess> {
  const port = await freePort();
  // The process logs to stdout, so the test can read its lines (`output`) as well as find them in its log file.
  const { LOG_DESTINATION: _inProcessLog, ...processEnv } = env;
  const stringEnv = Object.fromEntries(Object.entries({ ...processEnv, [portVariable]: port }).map(([k, v]) => [k, String(v)]));
  const child = spawn(process.execPath, [main], { env: { ...process.env, ...stringEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const log = createWriteStream(testLogFile(`${basename(dirname(main))}-${port}`), { flags: 'a' });
  const keep = (d: Buffer): void => {
    output.push(d.toString());
    log.write(d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('close', () => log.end());
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}: ${output.join('')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`app not ready: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port, output };
}

export async function stopProcess(p: AppProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill(signal);
  await exited;
}
