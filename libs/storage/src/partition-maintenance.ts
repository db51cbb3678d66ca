import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { addDays, daysBetween, PartitionRepository } from '@hookhub/persistence';
import { STORAGE_SETTINGS, StorageSettings } from './storage.settings';

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
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async ensureAhead(now: Date = new Date()): Promise<string[]> {
    const created = await this.partitions.ensure(daysBetween(addDays(now, -1), addDays(now, this.settings.aheadDays)));
    if (created.length > 0) this.logger.log({ partitions: created }, `created ${created.length} partitions ahead`);
    return created;
  }
}
