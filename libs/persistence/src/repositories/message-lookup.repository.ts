import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface MessageRef {
  messageId: string;
  ticketId: string | null;
  model: Record<string, unknown>;
}

/**
 * Finds the hub's messages and tickets from what providers know them by: an
 * email's Message-ID (`email_message_id` in the message model) or the
 * provider's message id (`provider_message_id`).
 */
@Injectable()
export class MessageLookupRepository {
  constructor(private readonly db: DataSource) {}

  /** The first of `emailMessageIds` (in the given order) that belongs to a live message, with its ticket. */
  async byEmailMessageIds(tenantId: string, emailMessageIds: string[]): Promise<MessageRef | null> {
    if (emailMessageIds.length === 0) return null;
    const rows: { model_id: string; model: Record<string, unknown>; key: string }[] = await this.db.query(
      `SELECT model_id, model, model->>'email_message_id' AS key FROM snapshots
        WHERE tenant_id = $1 AND model_type = 'message' AND deleted_at IS NULL AND model IS NOT NULL
          AND model->>'email_message_id' = ANY($2)`,
      [tenantId, emailMessageIds],
    );
    for (const id of emailMessageIds) {
      const row = rows.find((r) => r.key === id);
      if (row) return { messageId: row.model_id, ticketId: typeof row.model.ticket_id === 'string' ? row.model.ticket_id : null, model: row.model };
    }
    return null;
  }

  async byProviderMessageId(tenantId: string, providerMessageId: string): Promise<MessageRef | null> {
    const rows: { model_id: string; model: Record<string, unknown> }[] = await this.db.query(
      `SELECT model_id, model FROM snapshots
        WHERE tenant_id = $1 AND model_type = 'message' AND deleted_at IS NULL AND model IS NOT NULL
          AND model->>'provider_message_id' = $2
        LIMIT 1`,
      [tenantId, providerMessageId],
    );
    const row = rows[0];
    return row ? { messageId: row.model_id, ticketId: typeof row.model.ticket_id === 'string' ? row.model.ticket_id : null, model: row.model } : null;
  }

  async ticketExists(tenantId: string, ticketId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM snapshots WHERE tenant_id = $1 AND model_type = 'ticket' AND model_id = $2 AND deleted_at IS NULL AND model IS NOT NULL`,
      [tenantId, ticketId],
    );
    return rows.length > 0;
  }
}
