import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracing (#15): `trace_parent` is the W3C `traceparent` of the span that fanned
 * the delivery's event out, written by the fan-out only while tracing is on.
 * An attempt that waits in PostgreSQL (a parked retry, a delivery created
 * parked or held, one in a rate line, a manual retry or replay) is sent long
 * after the message that carried the trace is gone: this column is how it
 * joins its event's trace.
 */
export class DeliveryTraceParent1764000000013 implements MigrationInterface {
  name = 'DeliveryTraceParent1764000000013';

  async up(q: QueryRunner): Promise<void> {
    // A NULL column without a default: a catalogue change only, on every partition, no rewrite.
    await q.query(`ALTER TABLE deliveries ADD COLUMN trace_parent text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries DROP COLUMN trace_parent`);
  }
}
