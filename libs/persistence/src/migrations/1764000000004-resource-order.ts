import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-resource order across dispatcher pods: each delivery knows its event's
 * resource and event-log version, and waits ("held": parked without a time)
 * while the previous delivery of the same resource to the same subscription
 * is in flight. A subscription can ask for strict order (also wait while the
 * previous one is retrying).
 */
export class ResourceOrder1764000000004 implements MigrationInterface {
  name = 'ResourceOrder1764000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions ADD COLUMN ordering text NOT NULL DEFAULT 'default'`);
    await q.query(`ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_ordering_check CHECK (ordering IN ('default', 'strict'))`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN resource text NULL, ADD COLUMN resource_version integer NULL`);
    // Existing deliveries learn their resource from the log, so order also holds for what was in flight.
    await q.query(
      `UPDATE deliveries d SET resource = e.model_type || '/' || e.model_id, resource_version = e.version
         FROM events e WHERE e.tenant_id = d.tenant_id AND e.id = d.event_id`,
    );
    // Never-changing columns only: status updates stay HOT.
    await q.query(`CREATE INDEX deliveries_resource_order_idx ON deliveries (subscription_id, resource, resource_version)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deliveries_resource_order_idx`);
    await q.query(`ALTER TABLE deliveries DROP COLUMN resource, DROP COLUMN resource_version`);
    await q.query(`ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_ordering_check`);
    await q.query(`ALTER TABLE subscriptions DROP COLUMN ordering`);
  }
}
