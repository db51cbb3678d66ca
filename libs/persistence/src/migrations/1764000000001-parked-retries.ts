import { MigrationInterface, QueryRunner } from 'typeorm';

/** Retries with long delays wait in PostgreSQL (`parked`) instead of holding a JetStream consumer slot. */
export class ParkedRetries1764000000001 implements MigrationInterface {
  name = 'ParkedRetries1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ADD COLUMN parked boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX deliveries_parked_due_idx ON deliveries (next_attempt_at) WHERE parked`);
    await q.query(`ALTER TABLE subscriptions ADD COLUMN disabled_at timestamptz NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP COLUMN disabled_at`);
    await q.query(`DROP INDEX deliveries_parked_due_idx`);
    await q.query(`ALTER TABLE deliveries DROP COLUMN parked`);
  }
}
