import { IsInt, Max, Min } from 'class-validator';
import { BaseConfig } from '@hookhub/platform';

export class ProviderIngestConfig extends BaseConfig {
  @IsInt()
  @Min(0)
  @Max(65_535)
  PROVIDER_INGEST_PORT: number = 3002;
}
