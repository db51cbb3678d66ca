import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Auto-disable needs time as well as a count: `failing_since` is when the
 * current run of consecutive failures began (NULL while healthy), and
 * `disable_after_failing_ms` a subscription's own minimum (NULL: the hub's
 * `DISABLE_AFTER_FAILING_MS`).
 */
export class FailingSince1764000000005 implements MigrationInterface {
  name = 'FailingSince1764000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions ADD COLUMN failing_since timestamptz NULL, ADD COLUMN disable_after_failing_ms integer NULL`);
    // A run of failures already under way starts its clock now: never earlier than the hub could know.
    await q.query(`UPDATE subscriptions SET failing_since = now() WHERE consecutive_failures > 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP COLUMN disable_after_failing_ms, DROP COLUMN failing_since`);
  }
}
