import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from '@hookhub/platform';
import { StorageReport, StorageReportData, TableStorage } from './storage-report';

/** One report serves every gauge of a scrape. */
const REPORT_REUSE_MS = 1_000;

/**
 * The storage report as Prometheus gauges, read from the catalogue when
 * scraped: bytes, partitions and estimated rows per table, the oldest day
 * held and the next expiry.
 */
@Injectable()
export class StorageMetrics {
  private last: { at: number; report: Promise<StorageReportData> } | null = null;

  constructor(registry: MetricsRegistry, report: StorageReport) {
    const current = (): Promise<StorageReportData> => {
      if (!this.last || Date.now() - this.last.at > REPORT_REUSE_MS) this.last = { at: Date.now(), report: report.report() };
      return this.last.report;
    };
    const perTable = (name: string, help: string, value: (t: TableStorage) => number | null): void => {
      new Gauge({
        name,
        help,
        labelNames: ['table'],
        registers: [registry],
        async collect() {
          for (const t of (await current()).tables) {
            const v = value(t);
            if (v !== null) this.set({ table: t.table }, v);
          }
        },
      });
    };
    perTable('hookhub_storage_bytes', 'Bytes of a partitioned table (data, TOAST and indexes)', (t) => t.bytes);
    perTable('hookhub_storage_partitions', 'Day partitions of a table', (t) => t.partitions);
    perTable('hookhub_storage_rows_estimate', "Rows of a table (PostgreSQL's estimate)", (t) => t.rowsEstimate);
    perTable('hookhub_storage_oldest_day_seconds', 'Start of the oldest day a table holds rows of (Unix seconds)', (t) =>
      t.oldestDay ? t.oldestDay.getTime() / 1000 : null,
    );
    new Gauge({
      name: 'hookhub_storage_next_expiry_seconds',
      help: 'When the next partition expires (Unix seconds)',
      registers: [registry],
      async collect() {
        const next = (await current()).nextExpiry;
        if (next) this.set(next.getTime() / 1000);
      },
    });
  }
}
