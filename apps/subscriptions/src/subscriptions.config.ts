import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';
import { BaseConfig } from '@hookhub/platform';

export class SubscriptionsConfig extends BaseConfig {
  @IsInt()
  @Min(0)
  @Max(65_535)
  SUBSCRIPTIONS_PORT: number = 3000;

  /** Bootstrap credential that creates tenants and their first keys. Keep it long and secret. */
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN: string;

  /** How long a rotated-out secret keeps signing alongside the new one. */
  @IsInt()
  @Min(0)
  SECRET_ROTATION_OVERLAP_MS: number = 24 * 3_600_000;
}
