import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { addDays, daysBetween, PartitionedTable, PartitionRepository } from '@hookhub/persistence';
import { STORAGE_SETTINGS, StorageSettings } from './storage.settings';

/** How often the tables' growth is checked (a catalogue read). */
const STATS_CHECK_MS = 5_000;
/** A table is analysed again once its rows differ from its statistics' by this many at least. */
const ANALYZE_AFTER_ROWS = 1_000;

/**
 * Keeps the day partitions of every partitioned table created ahead of time:
 * at start-up, before any consumer or route can insert, and then on every
 * interval. Every pod does it; they take turns under an advisory lock and a
 * partition that exists costs nothing. Yesterday is included for the rows
 * whose time comes from a clock a little behind the database's.
 */
@Injectable()
export class PartitionMaintenance implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PartitionMaintenance.name);
  private timer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly partitions: PartitionRepository,
    @Inject(STORAGE_SETTINGS) private readonly settings: StorageSettings,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensureAhead();
    this.timer = setInterval(() => {
      this.ensureAhead().catch((err: unknown) => this.logger.error({ err: err instanceof Error ? err.message : err }, 'creating partitions failed'));
    }, this.settings.intervalMs);
    this.timer.unref();
    this.statsTimer = setInterval(() => {
      this.analyzeGrown().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : err }, 'analysing tables failed'));
    }, STATS_CHECK_MS);
    this.statsTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.statsTimer) clearInterval(this.statsTimer);
  }

  /**
   * Analyses each partitioned table as a whole once its rows differ from
   * what its statistics counted by a tenth (at least ANALYZE_AFTER_ROWS), or
   * it was never analysed and holds that many: what autovacuum does for plain
   * tables and never for partitioned ones. The count is the table's own, in
   * the database, so the pod that analyses first settles it for the others.
   */
  async analyzeGrown(): Promise<PartitionedTable[]> {
    const analysed: PartitionedTable[] = [];
    const age = await this.partitions.statisticsAge();
    for (const table of Object.keys(age) as PartitionedTable[]) {
      const { rows, analysedRows } = age[table];
      const stale = analysedRows === null ? rows >= ANALYZE_AFTER_ROWS : Math.abs(rows - analysedRows) >= Math.max(ANALYZE_AFTER_ROWS, analysedRows / 10);
      if (!stale) continue;
      await this.partitions.analyze(table);
      analysed.push(table);
    }
    return analysed;
  }

  async ensureAhead(now: Date = new Date()): Promise<string[]> {
    const created = await this.partitions.ensure(daysBetween(addDays(now, -1), addDays(now, this.settings.aheadDays)));
    if (created.length > 0) this.logger.log({ partitions: created }, `created ${created.length} partitions ahead`);
    return created;
  }
}
