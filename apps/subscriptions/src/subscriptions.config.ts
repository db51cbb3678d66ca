import { BaseConfig, EnvInteger, EnvString } from '@hookhub/platform';

/** An absolute http(s) URL with a host and nothing after the path (no query, no fragment, no credentials). */
function isBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.username && !url.password && !url.search && !url.hash;
  } catch {
    return false;
  }
}

/**
 * A CSP `frame-ancestors` source list: `'none'`, `'self'`, or http(s) origins (a host may start with `*.`),
 * separated by spaces. Paths, `*` alone and other keywords are refused: they would open the portal to any page.
 */
export function isFrameAncestors(value: string): boolean {
  const sources = value.trim().split(/\s+/);
  if (sources.includes("'none'")) return sources.length === 1;
  return sources.every((s) => s === "'self'" || /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i.test(s));
}

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

  /**
   * Where providers reach provider-ingest from outside, e.g. https://hooks.example.com: a provider
   * connection's `ingest_url` is this followed by /ingest/<provider>/<id>. The default is
   * provider-ingest's default port on this machine, which only suits development.
   */
  @EnvString({ accepts: 'an absolute http(s) URL such as https://hooks.example.com, without query or fragment', check: isBaseUrl })
  INGEST_PUBLIC_URL: string = 'http://127.0.0.1:3002';

  /**
   * Which pages may show the portal (/portal) in a frame: its Content-Security-Policy's `frame-ancestors`.
   * `'none'` by default, so no other site can frame it (clickjacking); a platform that embeds the portal
   * for its customers names its own origin, e.g. `https://app.example.com`.
   */
  @EnvString({
    accepts: "'none', or 'self' and/or http(s) origins such as https://app.example.com separated by spaces",
    check: isFrameAncestors,
  })
  PORTAL_FRAME_ANCESTORS: string = "'none'";
}
