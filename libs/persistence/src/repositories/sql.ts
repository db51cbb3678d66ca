import type { PoolClient, QueryResultRow } from 'pg';
import type { EntityManager } from 'typeorm';

/** TypeORM answers UPDATE … RETURNING with `[rows, affected]` and SELECT with `rows`. */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

/**
 * Runs one of the hot bulk statements as a named prepared statement on the
 * manager's connection (its transaction's, or one taken from the pool for
 * the call): PostgreSQL parses and plans it once per connection instead of on
 * every batch, which is most of its cost for a small batch.
 */
export async function preparedQuery<T extends QueryResultRow>(m: EntityManager, name: string, text: string, values: unknown[]): Promise<T[]> {
  const runner = m.queryRunner ?? m.connection.createQueryRunner();
  try {
    const client = (await runner.connect()) as PoolClient;
    return (await client.query<T>({ name, text, values })).rows;
  } finally {
    if (!m.queryRunner) await runner.release();
  }
}
