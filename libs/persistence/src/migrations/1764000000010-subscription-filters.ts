import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payload filters (#15): `filter` is a subscription's condition on the event
 * envelope in MongoDB query syntax (NULL: every event its types and model ids
 * take), and `filtered_count` how many events it has skipped so far, added to
 * in bulk by the dispatchers once per fan-out batch.
 */
export class SubscriptionFilters1764000000010 implements MigrationInterface {
  name = 'SubscriptionFilters1764000000010';

  async up(q: QueryRunner): Promise<void> {
    // Both without a rewrite of the table: a NULL column and a constant default are catalogue changes only.
    await q.query(`ALTER TABLE subscriptions ADD COLUMN filter jsonb NULL, ADD COLUMN filtered_count bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP COLUMN filtered_count, DROP COLUMN filter`);
  }
}
