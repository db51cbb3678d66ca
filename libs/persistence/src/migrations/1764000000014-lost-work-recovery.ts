import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Soak (#17): what the hub needs to recover work JetStream lost.
 *
 * - `deliveries_queued_due_idx`: a delivery whose next attempt waits as a job
 *   on the retries stream (retrying, or pending and deferred) has
 *   `next_attempt_at` set and is neither parked nor in a rate line. The
 *   overdue sweep looks for such rows whose time is long past, to ask
 *   JetStream whether their job still exists. The index covers only them and
 *   names only columns other indexes already name (`next_attempt_at`,
 *   `parked`, `rate_waiting`), so an attempt's update that leaves those alone
 *   (a first attempt delivered) stays a HOT update.
 * - `stream_audits`: how far the events audit has checked a stream (every
 *   event the dispatcher's consumer acknowledged is in the event log).
 */
export class LostWorkRecovery1764000000014 implements MigrationInterface {
  name = 'LostWorkRecovery1764000000014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX deliveries_queued_due_idx ON deliveries (next_attempt_at) WHERE NOT parked AND NOT rate_waiting`);
    await q.query(`CREATE TABLE stream_audits (
      stream text PRIMARY KEY,
      checked_through bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stream_audits`);
    await q.query(`DROP INDEX deliveries_queued_due_idx`);
  }
}
