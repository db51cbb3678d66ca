import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The built portal (dist/portal): `npm test` builds it before the suites; a suite run alone builds it when it is missing (about a second). */
export function ensurePortalBuilt(): string {
  const dir = join(ROOT, 'dist', 'portal');
  if (!existsSync(join(dir, 'index.html'))) {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(ROOT, 'apps', 'portal', 'vite.config.mts')],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  }
  return dir;
}
