import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/**
 * Bounds on what one session may hold or wait for, in milliseconds (0 or absent: the server's
 * setting). Sent in the startup packet, so they hold on every pooled connection from its first query.
 */
export interface SessionTimeouts {
  /** A session idle inside a transaction this long is ended by the server, releasing its locks. */
  idleInTransactionMs?: number;
  /** A statement waiting this long for a lock fails. */
  lockMs?: number;
  /** A statement running this long is cancelled. */
  statementMs?: number;
}

export function dataSourceOptions(url: string, poolSize: number, poolMin = 0, timeouts: SessionTimeouts = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: poolSize,
      min: Math.min(poolMin, poolSize),
      connectionTimeoutMillis: 10_000,
      // A pod frozen mid-batch (SIGSTOP, a stalled VM) would otherwise keep its transaction and row locks
      // for as long as it is frozen, and every other pod touching those rows would wait with it.
      ...(timeouts.idleInTransactionMs ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionMs } : {}),
      ...(timeouts.lockMs ? { lock_timeout: timeouts.lockMs } : {}),
      ...(timeouts.statementMs ? { statement_timeout: timeouts.statementMs } : {}),
    },
  };
}

/**
 * Creates the database named in the URL when it does not exist yet, so a
 * fresh machine needs no manual step. Lacking the privilege is not an error:
 * the connection attempt that follows reports the real problem.
 */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  try {
    await client.connect();
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      new Logger('Database').log({ database: name }, 'database created');
    }
  } catch (err) {
    if (!(err instanceof Error && /already exists/.test(err.message))) {
      new Logger('Database').warn({ err: err instanceof Error ? err.message : err }, 'could not ensure the database exists');
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

const MIGRATION_LOCK = 7_436_001;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so pods starting
 * together apply each migration exactly once. They run on the session holding
 * the lock, with the lock and statement timeouts lifted for it: waiting for
 * another pod's migrations, or a long index build, is expected there.
 */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SET lock_timeout = 0');
    await runner.query('SET statement_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    await executor.executePendingMigrations();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    // Back to the connection's configured bounds (RESET returns to the startup values) before the pool reuses it.
    await runner.query('RESET lock_timeout').catch(() => undefined);
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.release();
  }
}

/** Opens the pool's `min` connections (see `dataSourceOptions`) now, instead of while the first requests wait for them. */
export async function warmPool(dataSource: DataSource): Promise<void> {
  const min = (dataSource.options.extra as { min?: number } | undefined)?.min ?? 0;
  const runners = Array.from({ length: min }, () => dataSource.createQueryRunner());
  try {
    await Promise.all(runners.map((r) => r.connect()));
  } finally {
    await Promise.all(runners.map((r) => r.release()));
  }
}
