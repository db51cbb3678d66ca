import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { DeliveryAttemptEntity, DeliveryEntity, DeliveryStatus } from '../entities';

export interface NewDeliveryRow {
  id: string;
  tenantId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
}

export interface ExistingDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  status: DeliveryStatus;
  attemptCount: number;
  /** True when this call inserted it, false when it existed. */
  created: boolean;
}

/** The result of one HTTP attempt, and the delivery state it leads to. */
export interface AttemptRecord {
  id: string;
  deliveryId: string;
  attempt: number;
  outcome: 'success' | 'failure';
  startedAt: Date;
  durationMs: number;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  error: string | null;
  /** The delivery's status after this attempt. */
  status: DeliveryStatus;
  reason: string | null;
  nextAttemptAt: Date | null;
}

@Injectable()
export class DeliveryRepository {
  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectRepository(DeliveryAttemptEntity) private readonly attempts: Repository<DeliveryAttemptEntity>,
  ) {}

  /**
   * Inserts the deliveries of a fan-out, skipping (event, subscription) pairs
   * that exist, and returns every pair's delivery, new or old: a redelivered
   * event finds the deliveries it created the first time.
   */
  async upsertMany(m: EntityManager, rows: NewDeliveryRow[]): Promise<ExistingDelivery[]> {
    if (rows.length === 0) return [];
    const result: Array<{ id: string; subscription_id: string; event_id: string; status: DeliveryStatus; attempt_count: number; created: boolean }> =
      await m.query(
        `WITH input AS (
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[])
             AS u(id, tenant_id, subscription_id, event_id, event_type)
         ), inserted AS (
           INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status)
           SELECT id, tenant_id, subscription_id, event_id, event_type, 'pending' FROM input
           ON CONFLICT (subscription_id, event_id) DO NOTHING
           RETURNING id, subscription_id, event_id, status, attempt_count
         )
         SELECT *, true AS created FROM inserted
         UNION ALL
         SELECT d.id, d.subscription_id, d.event_id, d.status, d.attempt_count, false AS created
           FROM deliveries d JOIN input i ON d.subscription_id = i.subscription_id AND d.event_id = i.event_id
          WHERE d.id <> i.id`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.tenantId),
          rows.map((r) => r.subscriptionId),
          rows.map((r) => r.eventId),
          rows.map((r) => r.eventType),
        ],
      );
    return result.map((r) => ({
      id: r.id,
      subscriptionId: r.subscription_id,
      eventId: r.event_id,
      status: r.status,
      attemptCount: r.attempt_count,
      created: r.created,
    }));
  }

  /** Writes a batch of attempts and the delivery states they lead to, in one transaction. */
  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.deliveries.manager.transaction(async (m) => {
      await m.query(
        `INSERT INTO delivery_attempts (id, delivery_id, attempt, outcome, started_at, duration_ms, request_url,
           request_headers, response_status, response_headers, response_body, error)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::int[], $7::text[],
           $8::jsonb[], $9::int[], $10::jsonb[], $11::text[], $12::text[])`,
        [
          records.map((r) => r.id),
          records.map((r) => r.deliveryId),
          records.map((r) => r.attempt),
          records.map((r) => r.outcome),
          records.map((r) => r.startedAt),
          records.map((r) => r.durationMs),
          records.map((r) => r.requestUrl),
          records.map((r) => JSON.stringify(r.requestHeaders)),
          records.map((r) => r.responseStatus),
          records.map((r) => (r.responseHeaders ? JSON.stringify(r.responseHeaders) : null)),
          records.map((r) => r.responseBody),
          records.map((r) => r.error),
        ],
      );
      // A delivery that is already delivered stays delivered, whatever a late duplicate attempt says.
      await m.query(
        `UPDATE deliveries d SET
           status = CASE WHEN d.status = 'delivered' THEN d.status ELSE u.status END,
           attempt_count = GREATEST(d.attempt_count, u.attempt),
           last_status_code = u.response_status,
           reason = CASE WHEN d.status = 'delivered' THEN d.reason ELSE u.reason END,
           next_attempt_at = CASE WHEN d.status = 'delivered' THEN NULL ELSE u.next_attempt_at END,
           delivered_at = CASE WHEN u.status = 'delivered' THEN COALESCE(d.delivered_at, u.finished_at) ELSE d.delivered_at END,
           updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::text[], $6::timestamptz[], $7::timestamptz[])
           AS u(id, status, attempt, response_status, reason, next_attempt_at, finished_at)
         WHERE d.id = u.id`,
        [
          records.map((r) => r.deliveryId),
          records.map((r) => r.status),
          records.map((r) => r.attempt),
          records.map((r) => r.responseStatus),
          records.map((r) => r.reason),
          records.map((r) => r.nextAttemptAt),
          records.map((r) => new Date(r.startedAt.getTime() + r.durationMs)),
        ],
      );
    });
  }

  findForTenant(tenantId: string, id: string): Promise<DeliveryEntity | null> {
    return this.deliveries.findOneBy({ tenantId, id });
  }

  listForSubscription(subscriptionId: string): Promise<DeliveryEntity[]> {
    return this.deliveries.find({ where: { subscriptionId }, order: { createdAt: 'ASC' } });
  }

  listAttempts(deliveryId: string): Promise<DeliveryAttemptEntity[]> {
    return this.attempts.find({ where: { deliveryId }, order: { attempt: 'ASC', startedAt: 'ASC' } });
  }
}
