import { Inject, Injectable, Optional } from '@nestjs/common';
import { PartitionInfo, PartitionRepository, PARTITIONED_TABLE_NAMES, PartitionedTable, RetentionRunRepository, RetentionRunRow } from '@hookhub/persistence';
import { PartitionArchiver } from './archive';
import { expiresAt } from './retention-policy';
import { RetentionDays, STORAGE_SETTINGS, StorageSettings } from './storage.settings';

export interface TableStorage {
  table: PartitionedTable;
  partitions: number;
  bytes: number;
  rowsEstimate: number;
  /** The day of the oldest partition holding a row (null: empty). */
  oldestDay: Date | null;
  /** When the oldest attached partition expires (null: none). */
  nextExpiry: Date | null;
}

export interface PartitionStorage extends PartitionInfo {
  expiresAt: Date;
}

/** What the hub stores and when it goes: the storage report of the admin API and the gauges. */
export interface StorageReportData {
  retentionDays: RetentionDays;
  aheadDays: number;
  /** Where expiring partitions are archived (null: they are dropped without an archive). */
  archiveLocation: string | null;
  tables: TableStorage[];
  partitions: PartitionStorage[];
  nextExpiry: Date | null;
  lastRun: RetentionRunRow | null;
}

@Injectable()
export class StorageReport {
  constructor(
    private readonly partitions: PartitionRepository,
    private readonly runs: RetentionRunRepository,
    @Inject(STORAGE_SETTINGS) private readonly settings: StorageSettings,
    @Optional() private readonly archiver?: PartitionArchiver,
  ) {}

  /** Partitions and sizes from the catalogue; one page read per table for the oldest data. */
  async report(): Promise<StorageReportData> {
    const partitions = (await this.partitions.list()).map((p) => ({ ...p, expiresAt: expiresAt(p, this.settings.retentionDays) }));
    const tables: TableStorage[] = [];
    for (const table of PARTITIONED_TABLE_NAMES) {
      const own = partitions.filter((p) => p.table === table && p.attached);
      let oldestDay: Date | null = null;
      for (const p of own) {
        if (await this.partitions.hasRows(p.name)) {
          oldestDay = p.day;
          break;
        }
      }
      tables.push({
        table,
        partitions: own.length,
        bytes: own.reduce((n, p) => n + p.bytes, 0),
        rowsEstimate: own.reduce((n, p) => n + Math.max(0, p.rowsEstimate), 0),
        oldestDay,
        nextExpiry: own[0]?.expiresAt ?? null,
      });
    }
    const expiries = tables.map((t) => t.nextExpiry).filter((d): d is Date => d !== null);
    return {
      retentionDays: this.settings.retentionDays,
      aheadDays: this.settings.aheadDays,
      archiveLocation: this.archiver?.location ?? null,
      tables,
      partitions,
      nextExpiry: expiries.length ? new Date(Math.min(...expiries.map((d) => d.getTime()))) : null,
      lastRun: await this.runs.latest(),
    };
  }
}
