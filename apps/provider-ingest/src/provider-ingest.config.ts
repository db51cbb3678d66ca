import { BaseConfig, EnvBoolean, EnvInteger, EnvString } from '@hookhub/platform';
import { SNS_CERTIFICATE_HOST } from '@hookhub/providers';

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** Every variable takes one `Env*` decorator from @hookhub/platform, which parses it strictly; the config spec checks that. */
export class ProviderIngestConfig extends BaseConfig {
  @EnvInteger({ min: 0, max: 65_535 })
  PROVIDER_INGEST_PORT: number = 3002;

  /** Largest callback accepted; inbound email with attachments needs room. `0kb` would refuse every callback. */
  @EnvString({ accepts: 'a size such as 512kb or 30mb (not zero)', pattern: /^[1-9]\d{0,6}(kb|mb)$/i })
  INGEST_BODY_LIMIT: string = '30mb';

  /**
   * Behind a reverse proxy: take the URL the provider called from
   * X-Forwarded-Proto/Host. A connection's configured public URL wins over both.
   */
  @EnvBoolean()
  TRUST_PROXY: boolean = false;

  /** Hosts allowed to serve SNS signing certificates and SubscribeURLs (a regular expression). */
  @EnvString({ accepts: 'a regular expression', check: compiles })
  INGEST_SNS_HOST_PATTERN: string = SNS_CERTIFICATE_HOST.source;

  /** Tests only: accept http:// SNS certificate and subscription URLs. */
  @EnvBoolean()
  INGEST_SNS_ALLOW_HTTP: boolean = false;

  /** How long one process may work on a stored callback before another takes it over. */
  @EnvInteger({ min: 1_000, unit: 'ms' })
  INGEST_LEASE_MS: number = 30_000;

  @EnvInteger({ min: 1 })
  INGEST_MAX_ATTEMPTS: number = 20;
}
