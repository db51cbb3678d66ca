import { Client } from 'pg';
import { StartupError } from '@hookhub/platform';

/** PostgreSQL's answers that waiting will not change (SQLSTATE): bad password, no such role, not allowed in. */
const REFUSALS: Record<string, string> = {
  '28P01': 'refused the password',
  '28000': 'refused the connection (no pg_hba.conf entry or no such role)',
};

/** Errors that mean "not there (yet)": worth another try until the wait is over (57P03: the server is starting). */
const NOT_THERE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P03']);

/** A SQLSTATE: the server answered, so it is there; the app's own connection reports anything else it says. */
const SQLSTATE = /^[0-9A-Z]{5}$/;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Where the server is, for messages (never the URL: it may hold the password). */
function shown(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}`;
}

/**
 * Waits at start-up until PostgreSQL accepts a connection, for at most `waitMs` (containers may start
 * before it), then fails with one line naming the server and what to do. Without this TypeORM retried for
 * half a minute and ended in a stack trace.
 */
export async function waitForPostgres(url: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  const admin = new URL(url);
  // The server's own database: the app's may not exist yet (ensureDatabaseExists creates it next).
  admin.pathname = '/postgres';
  for (;;) {
    const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: Math.min(Math.max(deadline - Date.now(), 500), 5_000) });
    try {
      await client.connect();
      return;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const refusal = REFUSALS[code];
      if (refusal) throw new StartupError(`PostgreSQL at ${shown(url)} ${refusal}: fix the user or password in DATABASE_URL`, { cause: err });
      if (SQLSTATE.test(code) && !NOT_THERE.has(code)) return;
      if (Date.now() + 250 >= deadline || !(NOT_THERE.has(code) || /timeout/i.test(String(err)))) {
        const what = code === 'ECONNREFUSED' ? 'connection refused' : err instanceof Error ? err.message : String(err);
        const waited = NOT_THERE.has(code) ? ` for ${waitMs / 1000} s` : '';
        throw new StartupError(
          `PostgreSQL is not reachable at ${shown(url)} (${what}${waited}): start it, or set DATABASE_URL to where it runs (STARTUP_WAIT_MS sets the wait)`,
          { cause: err },
        );
      }
      await sleep(250);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
