// npm run soak -- [--minutes=30] [--rate=20] [--seed=20261130] [--report=soak-reports/<seed>-<minutes>m.json] [--no-build]
// Builds the apps, then runs the chaos soak (test/soak) with these settings; the report is written as JSON.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opts = { minutes: '30', rate: '20', seed: '20261130', report: '', build: true };
for (const arg of process.argv.slice(2)) {
  const m = /^--(minutes|rate|seed|report)=(.+)$/.exec(arg);
  if (m) opts[m[1]] = m[2];
  else if (arg === '--no-build') opts.build = false;
  else {
    console.error(`unknown argument ${arg}; use --minutes=N --rate=N --seed=N --report=FILE --no-build`);
    process.exit(2);
  }
}
const report = resolve(opts.report || join(ROOT, 'soak-reports', `${opts.seed}-${opts.minutes}m.json`));
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

if (opts.build && run('npm', ['run', 'build']) !== 0) process.exit(1);
const status = run('npx', ['jest', 'test/soak', '--selectProjects', 'soak', '--runInBand'], {
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  SOAK_MINUTES: opts.minutes,
  SOAK_RATE: opts.rate,
  SOAK_SEED: opts.seed,
  SOAK_REPORT: report,
});
console.log(`soak report: ${report}`);
process.exit(status);
