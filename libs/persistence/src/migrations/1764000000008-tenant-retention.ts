import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant may keep its history for less time than the deployment does
 * (NULL: the deployment's retention), and each retention run leaves a row
 * saying what it dropped, archived, deleted and kept.
 */
export class TenantRetention1764000000008 implements MigrationInterface {
  name = 'TenantRetention1764000000008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants ADD COLUMN events_retention_days integer NULL CHECK (events_retention_days > 0),
                     ADD COLUMN deliveries_retention_days integer NULL CHECK (deliveries_retention_days > 0),
                     ADD COLUMN callbacks_retention_days integer NULL CHECK (callbacks_retention_days > 0)`);
    await q.query(`
      CREATE TABLE retention_runs (
        id bigserial PRIMARY KEY,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NULL,
        summary jsonb NOT NULL DEFAULT '{}',
        error text NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE retention_runs`);
    await q.query(`ALTER TABLE tenants DROP COLUMN events_retention_days, DROP COLUMN deliveries_retention_days, DROP COLUMN callbacks_retention_days`);
  }
}
