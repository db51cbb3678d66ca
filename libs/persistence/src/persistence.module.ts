import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BaseConfig, HealthModule, ReadinessCheck, ReadinessRegistry } from '@hookhub/platform';
import { dataSourceOptions, ensureDatabaseExists, runMigrations, warmPool } from './database';
import { ENTITIES } from './entities';
import { waitForPostgres } from './postgres-wait';
import { REPOSITORIES } from './repositories';

/** Applies migrations before any consumer or route touches the database. */
@Injectable()
export class DatabaseLifecycle implements OnModuleInit, ReadinessCheck {
  readonly readinessName = 'postgres';

  constructor(
    private readonly dataSource: DataSource,
    readiness: ReadinessRegistry,
  ) {
    readiness.register(this);
  }

  async onModuleInit(): Promise<void> {
    await runMigrations(this.dataSource);
    await warmPool(this.dataSource);
  }

  async checkReadiness(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}

@Module({
  imports: [
    HealthModule,
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: async (config: ConfigService<BaseConfig, true>) => {
        const url = config.get('DATABASE_URL', { infer: true });
        await waitForPostgres(url, config.get('STARTUP_WAIT_MS', { infer: true }));
        await ensureDatabaseExists(url);
        const pool = dataSourceOptions(url, config.get('DATABASE_POOL_SIZE', { infer: true }), config.get('DATABASE_POOL_MIN', { infer: true }), {
          idleInTransactionMs: config.get('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', { infer: true }),
          lockMs: config.get('DATABASE_LOCK_TIMEOUT_MS', { infer: true }),
          statementMs: config.get('DATABASE_STATEMENT_TIMEOUT_MS', { infer: true }),
        });
        // PostgreSQL has answered (waitForPostgres): a few retries cover a restart in between, not a server that is not there.
        return { ...pool, retryAttempts: 3, retryDelay: 1_000 };
      },
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  providers: [DatabaseLifecycle, ...REPOSITORIES],
  exports: [TypeOrmModule, ...REPOSITORIES],
})
export class PersistenceModule {}
