import { BaseConfig, EnvInteger, EnvString } from '@hookhub/platform';

/** Every variable takes one `Env*` decorator from @hookhub/platform, which parses it strictly; the config spec checks that. */
export class SubscriptionsConfig extends BaseConfig {
  @EnvInteger({ min: 0, max: 65_535 })
  SUBSCRIPTIONS_PORT: number = 3000;

  /** Bootstrap credential that creates tenants and their first keys. Keep it long and secret. */
  @EnvString({ accepts: 'at least 16 characters', minLength: 16 })
  ADMIN_TOKEN: string;

  /** How long a rotated-out secret keeps signing alongside the new one. */
  @EnvInteger({ min: 0, unit: 'ms' })
  SECRET_ROTATION_OVERLAP_MS: number = 24 * 3_600_000;
}
