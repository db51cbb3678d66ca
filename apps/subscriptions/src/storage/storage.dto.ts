import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';
import type { PartitionStorage, StorageReportData, TableStorage } from '@hookhub/storage';
import type { TenantEntity } from '@hookhub/persistence';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const day = (d: Date | null): string | null => (d ? d.toISOString().slice(0, 10) : null);

/** A tenant's retention: days kept per kind of history; null follows the deployment's. */
export class TenantRetentionDto {
  @ApiProperty({ nullable: true, type: Number, minimum: 1, description: "Days of the event log; at most the deployment's EVENTS_RETENTION_DAYS" })
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(3_650)
  events_days: number | null;

  @ApiProperty({
    nullable: true,
    type: Number,
    minimum: 1,
    description: "Days of the delivery log (deliveries and attempts); at most the deployment's DELIVERIES_RETENTION_DAYS",
  })
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(3_650)
  deliveries_days: number | null;

  @ApiProperty({
    nullable: true,
    type: Number,
    minimum: 1,
    description: "Days of stored provider callbacks; at most the deployment's CALLBACKS_RETENTION_DAYS",
  })
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(3_650)
  callbacks_days: number | null;
}

export class RetentionDaysView {
  @ApiProperty() events_days: number;
  @ApiProperty() deliveries_days: number;
  @ApiProperty() callbacks_days: number;
}

export class TenantRetentionView {
  @ApiProperty() tenant_id: string;
  @ApiProperty({ type: TenantRetentionDto, description: 'The overrides as set (null: none)' }) overrides: TenantRetentionDto;
  @ApiProperty({ type: RetentionDaysView, description: 'What is in force for this tenant' }) effective: RetentionDaysView;

  static of(t: TenantEntity, deployment: RetentionDaysView): TenantRetentionView {
    return {
      tenant_id: t.id,
      overrides: { events_days: t.eventsRetentionDays, deliveries_days: t.deliveriesRetentionDays, callbacks_days: t.callbacksRetentionDays },
      effective: {
        events_days: t.eventsRetentionDays ?? deployment.events_days,
        deliveries_days: t.deliveriesRetentionDays ?? deployment.deliveries_days,
        callbacks_days: t.callbacksRetentionDays ?? deployment.callbacks_days,
      },
    };
  }
}

export class TableStorageView {
  @ApiProperty({ enum: ['events', 'deliveries', 'delivery_attempts', 'provider_callbacks'] }) table: string;
  @ApiProperty() partitions: number;
  @ApiProperty({ description: 'Data, TOAST and indexes' }) bytes: number;
  @ApiProperty({ description: "PostgreSQL's estimate" }) rows_estimate: number;
  @ApiProperty({ nullable: true, type: String, description: 'UTC day of the oldest rows' }) oldest_day: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When its oldest partition expires' }) next_expiry: string | null;

  static of(t: TableStorage): TableStorageView {
    return {
      table: t.table,
      partitions: t.partitions,
      bytes: t.bytes,
      rows_estimate: t.rowsEstimate,
      oldest_day: day(t.oldestDay),
      next_expiry: iso(t.nextExpiry),
    };
  }
}

export class PartitionView {
  @ApiProperty() table: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'The UTC day it holds' }) day: string;
  @ApiProperty() bytes: number;
  @ApiProperty() rows_estimate: number;
  @ApiProperty({ description: 'false: detached by an expiry that has not finished; the next run drops it' }) attached: boolean;
  @ApiProperty() expires_at: string;

  static of(p: PartitionStorage): PartitionView {
    return {
      table: p.table,
      name: p.name,
      day: day(p.day)!,
      bytes: p.bytes,
      rows_estimate: Math.max(0, p.rowsEstimate),
      attached: p.attached,
      expires_at: p.expiresAt.toISOString(),
    };
  }
}

export class RetentionRunView {
  @ApiProperty() started_at: string;
  @ApiProperty({ nullable: true, type: String }) finished_at: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Partitions archived, dropped and kept (with why); rows deleted per tenant' })
  summary: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
}

export class StorageView {
  @ApiProperty({ type: RetentionDaysView }) retention: RetentionDaysView;
  @ApiProperty({ description: 'Day partitions kept created ahead of today' }) partitions_ahead_days: number;
  @ApiProperty({ nullable: true, type: String, description: 'Where expiring partitions are archived; null: dropped without an archive' })
  archive: string | null;
  @ApiProperty({ type: [TableStorageView] }) tables: TableStorageView[];
  @ApiProperty({ nullable: true, type: String }) next_expiry: string | null;
  @ApiProperty({ type: [PartitionView] }) partitions: PartitionView[];
  @ApiProperty({ type: RetentionRunView, nullable: true }) last_retention_run: RetentionRunView | null;

  static of(r: StorageReportData): StorageView {
    return {
      retention: retentionView(r.retentionDays),
      partitions_ahead_days: r.aheadDays,
      archive: r.archiveLocation,
      tables: r.tables.map(TableStorageView.of),
      next_expiry: iso(r.nextExpiry),
      partitions: r.partitions.map(PartitionView.of),
      last_retention_run: r.lastRun
        ? { started_at: r.lastRun.startedAt.toISOString(), finished_at: iso(r.lastRun.finishedAt), summary: r.lastRun.summary, error: r.lastRun.error }
        : null,
    };
  }
}

export function retentionView(d: { events: number; deliveries: number; callbacks: number }): RetentionDaysView {
  return { events_days: d.events, deliveries_days: d.deliveries, callbacks_days: d.callbacks };
}
