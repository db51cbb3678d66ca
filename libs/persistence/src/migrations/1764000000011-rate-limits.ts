import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-subscription rate limits (#15), enforced for all dispatcher pods together.
 *
 * - `subscriptions.rate_per_second`, `rate_burst`: the limit (both NULL: none).
 * - `subscription_rate_budgets.next_slot_at`: the shared budget, as the time of the
 *   subscription's next send at its steady rate (the "theoretical arrival time" of GCRA);
 *   a pod leases the next few send times by moving it forward under the row's lock.
 * - `deliveries.rate_waiting`: the delivery waits for its subscription's budget ("in its
 *   rate line"); `rate_seq` is its place in that line, given when it is created (or when
 *   it first joins), and kept: a retry or a held delivery joins again ahead of newer ones.
 *   Only the SQL of the fan-out and RateLineRepository reads them: DeliveryEntity leaves them out.
 */
export class RateLimits1764000000011 implements MigrationInterface {
  name = 'RateLimits1764000000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions ADD COLUMN rate_per_second integer NULL, ADD COLUMN rate_burst integer NULL`);
    await q.query(
      `ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_rate_limit_check CHECK (
         (rate_per_second IS NULL AND rate_burst IS NULL) OR (rate_per_second >= 1 AND rate_burst >= rate_per_second))`,
    );
    await q.query(
      `CREATE TABLE subscription_rate_budgets (
         subscription_id uuid PRIMARY KEY REFERENCES subscriptions(id) ON DELETE CASCADE,
         next_slot_at timestamptz NOT NULL)`,
    );
    await q.query(`CREATE SEQUENCE deliveries_rate_seq AS bigint`);
    // A NULL column and a constant default: catalogue changes only, no rewrite of the partitions.
    await q.query(`ALTER TABLE deliveries ADD COLUMN rate_seq bigint NULL, ADD COLUMN rate_waiting boolean NOT NULL DEFAULT false`);
    // Small: only what waits. The lease takes a line's head in order with it, and the sweep finds the lines.
    await q.query(`CREATE INDEX deliveries_rate_line_idx ON deliveries (subscription_id, rate_seq) WHERE rate_waiting`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deliveries_rate_line_idx`);
    await q.query(`ALTER TABLE deliveries DROP COLUMN rate_waiting, DROP COLUMN rate_seq`);
    await q.query(`DROP SEQUENCE deliveries_rate_seq`);
    await q.query(`DROP TABLE subscription_rate_budgets`);
    await q.query(`ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_rate_limit_check`);
    await q.query(`ALTER TABLE subscriptions DROP COLUMN rate_burst, DROP COLUMN rate_per_second`);
  }
}
