import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeletedRows, isoDay, PartitionRepository, PartitionedTable, RetentionRunRepository, TenantRepository } from '@hookhub/persistence';
import { PartitionArchiver } from './archive';
import { isExpired, tenantCutoffs } from './retention-policy';
import { STORAGE_SETTINGS, StorageSettings } from './storage.settings';

/** One pod runs retention at a time ("hookhub retention"). */
const RETENTION_LOCK_KEY = 0x686f6f6b_7265;

/** What a retention run did. */
export interface RetentionSummary {
  /** Partitions exported before they were dropped (`table day`). */
  archived: string[];
  dropped: string[];
  /** Expired partitions kept because they still hold what is needed. */
  kept: Array<{ partition: string; reason: string }>;
  /** Rows deleted per tenant with a shorter retention than the deployment's. */
  deleted: Record<string, DeletedRows>;
  /** Tenants whose expired rows did not all fit in this run's batches: the next run goes on. */
  unfinished: string[];
  durationMs: number;
  /** Of which: expiring partitions (checks, archive, detach, drop) and the tenants' row deletes. */
  partitionsMs: number;
  deletesMs: number;
}

/**
 * Expires history. Per partition, oldest first: skip it while it still holds
 * what is needed (a live delivery, its event, an unprocessed callback); archive
 * it and verify the archive when a target is configured; detach it without
 * blocking the table; drop it. Each step can be interrupted (a SIGKILL): a
 * partition left detached is archived again and dropped by the next run, and
 * until it is dropped nothing of it is lost. Then, per tenant that keeps less
 * than the deployment, bounded batches of row deletes.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly partitions: PartitionRepository,
    private readonly tenants: TenantRepository,
    private readonly runs: RetentionRunRepository,
    @Inject(STORAGE_SETTINGS) private readonly settings: StorageSettings,
    @Optional() private readonly archiver?: PartitionArchiver,
  ) {}

  /** Runs retention once; null when another pod's run holds the lock. */
  async run(now: Date = new Date()): Promise<RetentionSummary | null> {
    const session = this.dataSource.createQueryRunner();
    await session.connect();
    try {
      const [{ locked }] = (await session.query(`SELECT pg_try_advisory_lock($1) AS locked`, [RETENTION_LOCK_KEY])) as Array<{ locked: boolean }>;
      if (!locked) return null;
      try {
        return await this.recorded(now);
      } finally {
        await session.query(`SELECT pg_advisory_unlock($1)`, [RETENTION_LOCK_KEY]);
      }
    } finally {
      await session.release();
    }
  }

  private async recorded(now: Date): Promise<RetentionSummary> {
    const started = Date.now();
    const runId = await this.runs.start(now);
    const summary: RetentionSummary = { archived: [], dropped: [], kept: [], deleted: {}, unfinished: [], durationMs: 0, partitionsMs: 0, deletesMs: 0 };
    try {
      await this.expirePartitions(now, summary);
      summary.partitionsMs = Date.now() - started;
      await this.deleteForTenants(now, summary);
      summary.deletesMs = Date.now() - started - summary.partitionsMs;
      summary.durationMs = Date.now() - started;
      await this.runs.finish(runId, summary, null);
      this.logger.log(summary, `retention: ${summary.dropped.length} partitions dropped, ${summary.kept.length} kept`);
      return summary;
    } catch (err) {
      summary.durationMs = Date.now() - started;
      const message = err instanceof Error ? err.message : String(err);
      await this.runs.finish(runId, summary, message).catch(() => undefined);
      throw err;
    }
  }

  private async expirePartitions(now: Date, summary: RetentionSummary): Promise<void> {
    const all = await this.partitions.list();
    // Left detached by an interrupted run: already judged expired and unneeded.
    const due = all.filter((p) => !p.attached || p.detachPending);
    for (const p of all.filter((x) => x.attached && !x.detachPending && isExpired(x, this.settings.retentionDays, now))) {
      const needed = await this.partitions.stillNeeded(p);
      if (needed > 0) {
        summary.kept.push({ partition: p.name, reason: keptReason(p.table, needed) });
        this.logger.warn({ partition: p.name, needed }, `expired partition kept: ${keptReason(p.table, needed)}`);
      } else due.push(p);
    }
    for (const p of due) {
      if (this.archiver) {
        const manifest = await this.archiver.archive([{ table: p.table, partition: p.name, day: isoDay(p.day) }]);
        await this.archiver.verify(manifest);
        summary.archived.push(p.name);
        this.logger.log({ partition: p.name, rows: manifest.files[0]?.rows, location: this.archiver.location }, 'partition archived and verified');
      }
      await this.partitions.detach(p);
      await this.partitions.drop({ ...p, attached: false });
      summary.dropped.push(p.name);
      this.logger.log({ partition: p.name, bytes: p.bytes }, 'expired partition dropped');
    }
  }

  private async deleteForTenants(now: Date, summary: RetentionSummary): Promise<void> {
    for (const tenant of await this.tenants.withRetentionOverrides()) {
      const cutoffs = tenantCutoffs(
        { events: tenant.eventsRetentionDays, deliveries: tenant.deliveriesRetentionDays, callbacks: tenant.callbacksRetentionDays },
        this.settings.retentionDays,
        now,
      );
      if (Object.values(cutoffs).every((c) => c === null)) continue;
      const total: DeletedRows = { events: 0, deliveries: 0, delivery_attempts: 0, provider_callbacks: 0 };
      let finished = false;
      for (let batch = 0; batch < this.settings.deleteBatchesPerRun && !finished; batch++) {
        const deleted = await this.partitions.deleteTenantRows(tenant.id, cutoffs, this.settings.deleteBatch);
        for (const table of Object.keys(total) as PartitionedTable[]) total[table] += deleted[table];
        finished =
          deleted.events < this.settings.deleteBatch &&
          deleted.deliveries < this.settings.deleteBatch &&
          deleted.provider_callbacks < this.settings.deleteBatch;
      }
      if (Object.values(total).some((n) => n > 0)) summary.deleted[tenant.id] = total;
      if (!finished) summary.unfinished.push(tenant.id);
    }
  }
}

function keptReason(table: PartitionedTable, needed: number): string {
  switch (table) {
    case 'events':
      return `${needed} pending or retrying deliveries still need its events`;
    case 'provider_callbacks':
      return `${needed} callbacks are not processed yet`;
    default:
      return `${needed} deliveries are still pending or retrying`;
  }
}
