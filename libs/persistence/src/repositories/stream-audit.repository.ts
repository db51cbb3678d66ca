import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returnedRows } from './sql';

/** A stream's audit, held by the caller until `leasedUntil`. */
export interface StreamAuditClaim {
  /** The last sequence checked; null before the first audit of the stream. */
  checkedThrough: number | null;
}

/**
 * How far an audit has checked each stream, and which pod runs it: one at a
 * time, by a lease that a pod which died while holding it loses by itself.
 */
@Injectable()
export class StreamAuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes the stream's audit for `leaseMs`; null while another pod holds it. */
  async claim(stream: string, leaseMs: number): Promise<StreamAuditClaim | null> {
    await this.dataSource.query(`INSERT INTO stream_audits (stream) VALUES ($1) ON CONFLICT (stream) DO NOTHING`, [stream]);
    const [row] = returnedRows<{ checked_through: string | null }>(
      await this.dataSource.query(
        `UPDATE stream_audits SET leased_until = now() + $2 * interval '1 millisecond', updated_at = now()
        WHERE stream = $1 AND (leased_until IS NULL OR leased_until < now())
        RETURNING checked_through`,
        [stream, leaseMs],
      ),
    );
    if (!row) return null;
    return { checkedThrough: row.checked_through === null ? null : Number(row.checked_through) };
  }

  /** Records how far the audit got and gives it up. */
  async release(stream: string, checkedThrough: number | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE stream_audits SET checked_through = COALESCE($2, checked_through), leased_until = NULL, updated_at = now() WHERE stream = $1`,
      [stream, checkedThrough],
    );
  }
}
