import { DynamicModule, Inject, Injectable, Module, OnModuleDestroy, Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Pool } from 'pg';
import { PersistenceModule } from '@hookhub/persistence';
import { BaseConfig, MetricsModule } from '@hookhub/platform';
import { ARCHIVE_CONNECTIONS, ARCHIVE_TARGET, ArchiveTarget, archiveTargetFromConfig, PartitionArchiver } from './archive';
import { PartitionMaintenance } from './partition-maintenance';
import { RetentionRunner } from './retention-runner';
import { RetentionService } from './retention.service';
import { StorageMetrics } from './storage-metrics';
import { StorageReport } from './storage-report';
import { STORAGE_SETTINGS, storageSettings } from './storage.settings';

/** The archiver's own one-connection pool: an export holds its session for as long as a partition takes to stream. */
@Injectable()
class ArchivePool implements OnModuleDestroy {
  private pool: Pool | null = null;

  constructor(@Inject(ConfigService) private readonly config: ConfigService<BaseConfig, true>) {}

  get connections(): Pool {
    this.pool ??= new Pool({ connectionString: this.config.get('DATABASE_URL', { infer: true }), max: 1 });
    return this.pool;
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool?.end();
  }
}

const ARCHIVE_PROVIDERS: Provider[] = [
  ArchivePool,
  {
    provide: ARCHIVE_TARGET,
    inject: [ConfigService],
    useFactory: (config: ConfigService<BaseConfig, true>): ArchiveTarget | null =>
      archiveTargetFromConfig({
        ARCHIVE_TARGET: config.get('ARCHIVE_TARGET', { infer: true }),
        ARCHIVE_DIR: config.get('ARCHIVE_DIR', { infer: true }),
        ARCHIVE_S3_BUCKET: config.get('ARCHIVE_S3_BUCKET', { infer: true }),
        ARCHIVE_S3_PREFIX: config.get('ARCHIVE_S3_PREFIX', { infer: true }),
        ARCHIVE_S3_ENDPOINT: config.get('ARCHIVE_S3_ENDPOINT', { infer: true }),
        ARCHIVE_S3_REGION: config.get('ARCHIVE_S3_REGION', { infer: true }),
        ARCHIVE_S3_FORCE_PATH_STYLE: config.get('ARCHIVE_S3_FORCE_PATH_STYLE', { infer: true }),
      }),
  },
  {
    provide: ARCHIVE_CONNECTIONS,
    inject: [ArchivePool],
    useFactory: (pool: ArchivePool) => ({ connect: () => pool.connections.connect() }),
  },
  {
    provide: PartitionArchiver,
    inject: [ARCHIVE_TARGET, ARCHIVE_CONNECTIONS],
    useFactory: (target: ArchiveTarget | null, connections: ConstructorParameters<typeof PartitionArchiver>[1]): PartitionArchiver | null =>
      target ? new PartitionArchiver(target, connections) : null,
  },
];

/**
 * The history's upkeep (see docs/storage.md). Every app keeps the partitions
 * created ahead of time and can report on storage; the dispatcher, with
 * `retention: true`, also expires history (archiving it first when a target
 * is configured) and exports the storage gauges.
 */
@Module({})
export class StorageModule {
  static forRoot(options: { retention?: boolean } = {}): DynamicModule {
    const common: Provider[] = [
      { provide: STORAGE_SETTINGS, inject: [ConfigService], useFactory: storageSettings },
      ...ARCHIVE_PROVIDERS,
      PartitionMaintenance,
      StorageReport,
    ];
    const retention: Provider[] = options.retention ? [RetentionService, RetentionRunner, StorageMetrics] : [];
    return {
      module: StorageModule,
      imports: [PersistenceModule, ...(options.retention ? [MetricsModule] : [])],
      providers: [...common, ...retention],
      exports: [StorageReport, STORAGE_SETTINGS],
    };
  }
}
