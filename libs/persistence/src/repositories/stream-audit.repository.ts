import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * How far an audit has checked each stream, and that one pod runs it at a
 * time: the pass holds a transaction-scoped advisory lock, which a pod that
 * dies mid-pass gives up with its connection. Nothing is written unless the
 * audit moved on, so an idle hub's audit changes no row.
 */
@Injectable()
export class StreamAuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs `pass` with the last sequence checked (null before the first audit of the stream) and records
   * the sequence it returns; false, without running it, while another pod audits the stream.
   */
  async audit(stream: string, pass: (checkedThrough: number | null) => Promise<number | null>): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const [{ locked }] = (await m.query(`SELECT pg_try_advisory_xact_lock(hashtextextended('stream_audits:' || $1, 0)) AS locked`, [stream])) as Array<{
        locked: boolean;
      }>;
      if (!locked) return false;
      const rows = (await m.query(`SELECT checked_through FROM stream_audits WHERE stream = $1`, [stream])) as Array<{ checked_through: string }>;
      const before = rows.length > 0 ? Number(rows[0].checked_through) : null;
      const after = await pass(before);
      if (after !== null && after !== before) {
        await m.query(
          `INSERT INTO stream_audits (stream, checked_through) VALUES ($1, $2)
           ON CONFLICT (stream) DO UPDATE SET checked_through = excluded.checked_through, updated_at = now()`,
          [stream, after],
        );
      }
      return true;
    });
  }
}
