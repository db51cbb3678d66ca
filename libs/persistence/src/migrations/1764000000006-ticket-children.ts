import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A ticket's deletion now deletes its messages with it (the recorder purges
 * them). The index finds a ticket's messages without reading every message
 * of the tenant. Messages of tickets deleted before this release are purged
 * here the same way: snapshot model gone (410), logged models erased.
 */
export class TicketChildren1764000000006 implements MigrationInterface {
  name = 'TicketChildren1764000000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX snapshots_message_ticket_idx ON snapshots (tenant_id, (model->>'ticket_id')) WHERE model_type = 'message'`);
    await q.query(`
      WITH purged AS (
        UPDATE snapshots m SET model = NULL, deleted_at = t.deleted_at, updated_at = now()
          FROM snapshots t
         WHERE m.model_type = 'message' AND m.deleted_at IS NULL
           AND t.tenant_id = m.tenant_id AND t.model_type = 'ticket' AND t.model_id = m.model->>'ticket_id'
           AND t.deleted_at IS NOT NULL
        RETURNING m.tenant_id, m.model_id
      )
      UPDATE events e SET envelope = json_build_object(
        'id', envelope->'id', 'account_id', envelope->'account_id', 'account_url', envelope->'account_url',
        'created_at', envelope->'created_at', 'type', envelope->'type', 'data', envelope->'data',
        'actor_type', envelope->'actor_type', 'actor_id', envelope->'actor_id', 'actor_name', envelope->'actor_name',
        'model_type', envelope->'model_type', 'model_id', envelope->'model_id', 'model', NULL)
        FROM purged p
       WHERE e.tenant_id = p.tenant_id AND e.model_type = 'message' AND e.model_id = p.model_id
         AND (e.envelope->'model')::text <> 'null'`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The purged data is gone for good; only the index can be undone.
    await q.query(`DROP INDEX snapshots_message_ticket_idx`);
  }
}
