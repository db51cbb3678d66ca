import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/** Settings every Hookhub app shares: where NATS and PostgreSQL are and how streams are named. */
export class BaseConfig {
  @IsString()
  @Matches(/^(nats|tls|ws|wss):\/\/.+/, { message: 'NATS_URL must be a nats:// URL (comma-separate several servers)' })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  @IsString()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/hookhub';

  @IsInt()
  @Min(1)
  @Max(100)
  DATABASE_POOL_SIZE: number = 10;

  /**
   * Connections opened at start-up and kept open when idle (at most the pool size): a cold pod's
   * first events would otherwise wait for PostgreSQL to start a backend per connection.
   */
  @IsInt()
  @Min(0)
  @Max(100)
  DATABASE_POOL_MIN: number = 4;

  /** Prefix of every stream and subject name, so several hubs (or test runs) can share one NATS server. */
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,31}$/, { message: 'JETSTREAM_PREFIX must be lowercase letters, digits or _' })
  JETSTREAM_PREFIX: string = 'hookhub';

  @IsInt()
  @Min(1)
  @Max(5)
  JETSTREAM_REPLICAS: number = 1;

  /** How long JetStream remembers a Nats-Msg-Id to de-duplicate a re-published event. */
  @IsInt()
  @Min(1_000)
  JETSTREAM_DUPLICATE_WINDOW_MS: number = 10 * 60_000;

  /** How long events stay in the stream (replay beyond this uses the PostgreSQL event log). */
  @IsInt()
  @Min(60_000)
  JETSTREAM_MAX_AGE_MS: number = 7 * 24 * 3_600_000;

  /** 32 bytes (64 hex or 44 base64 characters) that encrypt signing secrets at rest. */
  @IsString()
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, { message: 'SECRETS_ENCRYPTION_KEY must be 32 bytes as 64 hex or 44 base64 characters' })
  SECRETS_ENCRYPTION_KEY: string;

  /**
   * Development only: lets subscriptions target http:// and loopback URLs
   * (local receivers, tests). Off by default; never enable in production.
   */
  @Transform(toBoolean)
  @IsBoolean()
  ALLOW_INSECURE_WEBHOOK_TARGETS: boolean = false;

  @IsInt()
  @Min(100)
  @Max(60_000)
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  LOG_PRETTY: boolean = false;

  @IsInt()
  @Min(0)
  @Max(300_000)
  SHUTDOWN_GRACE_MS: number = 15_000;
}
