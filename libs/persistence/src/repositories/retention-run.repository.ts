import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface RetentionRunRow {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  summary: Record<string, unknown>;
  error: string | null;
}

/** How long the record of a retention run is kept. */
const RUNS_KEPT_DAYS = 90;

/** The record of retention runs: what each dropped, archived, deleted and kept, for operators. */
@Injectable()
export class RetentionRunRepository {
  constructor(private readonly dataSource: DataSource) {}

  async start(at: Date): Promise<string> {
    const [row] = (await this.dataSource.query(`INSERT INTO retention_runs (started_at) VALUES ($1) RETURNING id`, [at])) as Array<{ id: string }>;
    await this.dataSource.query(`DELETE FROM retention_runs WHERE started_at < now() - make_interval(days => $1)`, [RUNS_KEPT_DAYS]);
    return row.id;
  }

  async finish(id: string, summary: object, error: string | null): Promise<void> {
    await this.dataSource.query(`UPDATE retention_runs SET finished_at = now(), summary = $2, error = $3 WHERE id = $1`, [id, JSON.stringify(summary), error]);
  }

  async latest(): Promise<RetentionRunRow | null> {
    const rows: Array<{ id: string; started_at: Date; finished_at: Date | null; summary: Record<string, unknown>; error: string | null }> =
      await this.dataSource.query(`SELECT id, started_at, finished_at, summary, error FROM retention_runs ORDER BY started_at DESC LIMIT 1`);
    const r = rows[0];
    return r ? { id: String(r.id), startedAt: r.started_at, finishedAt: r.finished_at, summary: r.summary, error: r.error } : null;
  }
}
