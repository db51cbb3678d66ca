import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { BaseConfig, toBoolean } from '@hookhub/platform';

export class ProviderIngestConfig extends BaseConfig {
  @IsInt()
  @Min(0)
  @Max(65_535)
  PROVIDER_INGEST_PORT: number = 3002;

  /** Largest callback accepted; inbound email with attachments needs room. */
  @IsString()
  @Matches(/^\d+(kb|mb)$/i, { message: 'INGEST_BODY_LIMIT must look like 512kb or 30mb' })
  INGEST_BODY_LIMIT: string = '30mb';

  /**
   * Behind a reverse proxy: take the URL the provider called from
   * X-Forwarded-Proto/Host. A connection's configured public URL wins over both.
   */
  @Transform(toBoolean)
  @IsBoolean()
  TRUST_PROXY: boolean = false;

  /** Hosts allowed to serve SNS signing certificates and SubscribeURLs (a regular expression). */
  @IsString()
  INGEST_SNS_HOST_PATTERN: string = '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$';

  /** Tests only: accept http:// SNS certificate and subscription URLs. */
  @Transform(toBoolean)
  @IsBoolean()
  INGEST_SNS_ALLOW_HTTP: boolean = false;

  /** How long one process may work on a stored callback before another takes it over. */
  @IsInt()
  @Min(1_000)
  INGEST_LEASE_MS: number = 30_000;

  @IsInt()
  @Min(1)
  INGEST_MAX_ATTEMPTS: number = 20;
}
