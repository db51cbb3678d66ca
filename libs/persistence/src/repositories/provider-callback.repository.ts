import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ProviderCallbackEntity } from '../entities/provider-callback.entity';
import { returnedRows } from './sql';
import { keysetPage, Page } from './keyset';

export type NewCallback = Pick<
  ProviderCallbackEntity,
  'id' | 'connectionId' | 'tenantId' | 'provider' | 'digest' | 'method' | 'url' | 'headers' | 'body' | 'receivedAt'
>;

const COLUMNS = `id, connection_id AS "connectionId", tenant_id AS "tenantId", provider, digest, method, url, headers, body,
  received_at AS "receivedAt", state, attempts, next_attempt_at AS "nextAttemptAt", last_error AS "lastError",
  event_ids AS "eventIds", processed_at AS "processedAt"`;

@Injectable()
export class ProviderCallbackRepository {
  constructor(@InjectRepository(ProviderCallbackEntity) private readonly repo: Repository<ProviderCallbackEntity>) {}

  /**
   * Stores a callback as pending, leased to the caller for `leaseMs`.
   * Returns `null` when the same callback (same digest) is already stored.
   */
  async insertPending(c: NewCallback, leaseMs: number): Promise<ProviderCallbackEntity | null> {
    // The table is partitioned by day, so no unique index spans it: the same callback arriving twice
    // at once queues on a lock for its digest, and the second sees the first's row.
    return this.repo.manager.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`provider-callback:${c.connectionId}:${c.digest}`]);
      const rows = returnedRows<ProviderCallbackEntity>(
        await m.query(
          `INSERT INTO provider_callbacks (id, connection_id, tenant_id, provider, digest, method, url, headers, body, received_at, state, attempts, next_attempt_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 1, now() + make_interval(secs => $11::double precision / 1000)
            WHERE NOT EXISTS (SELECT 1 FROM provider_callbacks WHERE connection_id = $2 AND digest = $5)
           RETURNING ${COLUMNS}`,
          [c.id, c.connectionId, c.tenantId, c.provider, c.digest, c.method, c.url, JSON.stringify(c.headers), c.body, c.receivedAt, leaseMs],
        ),
      );
      return rows[0] ?? null;
    });
  }

  /** Claims pending callbacks whose lease ran out (their process died or publishing failed), leasing them again. */
  async claimDue(limit: number, leaseMs: number): Promise<ProviderCallbackEntity[]> {
    return returnedRows<ProviderCallbackEntity>(
      await this.repo.query(
        `UPDATE provider_callbacks c SET attempts = c.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
          WHERE c.id IN (
            SELECT id FROM provider_callbacks WHERE state = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING ${COLUMNS}`,
        [limit, leaseMs],
      ),
    );
  }

  async markProcessed(id: string, eventIds: string[]): Promise<void> {
    await this.repo.query(
      `UPDATE provider_callbacks SET state = 'processed', processed_at = now(), next_attempt_at = NULL, last_error = NULL, event_ids = $2 WHERE id = $1`,
      [id, eventIds],
    );
  }

  /** Records a failed attempt: retried after `retryInMs`, or given up on (`failed`) when `final`. */
  async markAttemptFailed(id: string, error: string, retryInMs: number, final: boolean): Promise<void> {
    await this.repo.query(
      `UPDATE provider_callbacks SET last_error = $2,
          state = CASE WHEN $4 THEN 'failed' ELSE state END,
          next_attempt_at = CASE WHEN $4 THEN NULL ELSE now() + make_interval(secs => $3::double precision / 1000) END
        WHERE id = $1`,
      [id, error.slice(0, 1000), retryInMs, final],
    );
  }

  /** Queues a stored callback to be normalised and published again within a second. */
  async requeue(tenantId: string, connectionId: string, id: string): Promise<ProviderCallbackEntity | null> {
    await this.repo.query(
      `UPDATE provider_callbacks SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
        WHERE id = $1 AND tenant_id = $2 AND connection_id = $3`,
      [id, tenantId, connectionId],
    );
    return this.findForTenant(tenantId, connectionId, id);
  }

  findForTenant(tenantId: string, connectionId: string, id: string): Promise<ProviderCallbackEntity | null> {
    return this.repo.findOneBy({ tenantId, connectionId, id });
  }

  /** Newest first, without bodies; the cursor is the id of the last item of the previous page. */
  pageForConnection(tenantId: string, connectionId: string, limit: number, cursor?: string): Promise<Page<ProviderCallbackEntity>> {
    const qb = this.repo
      .createQueryBuilder('c')
      .select([
        'c.id',
        'c.connectionId',
        'c.tenantId',
        'c.provider',
        'c.method',
        'c.url',
        'c.receivedAt',
        'c.state',
        'c.attempts',
        'c.lastError',
        'c.eventIds',
        'c.processedAt',
      ])
      .where('c.tenant_id = :tenantId AND c.connection_id = :connectionId', { tenantId, connectionId });
    return keysetPage(qb, { orderedBy: 'received_at', limit, cursor, cursorWithin: { column: 'connection_id', value: connectionId } });
  }
}
