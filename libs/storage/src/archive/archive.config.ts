import { EnvBoolean, EnvString } from '@hookhub/platform';
import { ValidateIf } from 'class-validator';
import type { ArchiveTarget } from './archive-target';
import { DirectoryArchiveTarget } from './directory-archive-target';
import { S3ArchiveTarget } from './s3-archive-target';

export const ARCHIVE_TARGET_KINDS = ['none', 'directory', 's3'] as const;
export type ArchiveTargetKind = (typeof ARCHIVE_TARGET_KINDS)[number];

/**
 * Where expiring partitions are archived before they are dropped (issue 12). A fragment: an app's configuration
 * that runs retention extends it or declares the same variables. Variables of a target not chosen may stay unset;
 * a variable that is set is checked whatever the target, so a typo never waits for the day the target changes.
 */
export class ArchiveConfig {
  /** `none` drops expired partitions without a copy. */
  @EnvString({ accepts: 'one of none, directory, s3', pattern: /^(none|directory|s3)$/ })
  ARCHIVE_TARGET: ArchiveTargetKind = 'none';

  @ValidateIf((c: ArchiveConfig) => c.ARCHIVE_TARGET === 'directory' || c.ARCHIVE_DIR !== undefined)
  @EnvString({ accepts: 'an absolute directory path (required when ARCHIVE_TARGET=directory)', pattern: /^\/./ })
  ARCHIVE_DIR?: string;

  @ValidateIf((c: ArchiveConfig) => c.ARCHIVE_TARGET === 's3' || c.ARCHIVE_S3_BUCKET !== undefined)
  @EnvString({ accepts: 'an S3 bucket name (required when ARCHIVE_TARGET=s3)', pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/ })
  ARCHIVE_S3_BUCKET?: string;

  /** Key prefix inside the bucket: `<prefix>/<YYYY>/<MM>/<DD>/<table>.ndjson.gz`. */
  @EnvString({
    accepts: 'a key prefix of letters, digits, . _ - separated by single slashes, without a leading or trailing slash',
    pattern: /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/,
  })
  ARCHIVE_S3_PREFIX: string = 'hookhub';

  /** An S3-compatible service's URL; unset: AWS S3. */
  @ValidateIf((c: ArchiveConfig) => c.ARCHIVE_S3_ENDPOINT !== undefined)
  @EnvString({ accepts: 'an http:// or https:// URL', pattern: /^https?:\/\/[^\s/]+(\/\S*)?$/ })
  ARCHIVE_S3_ENDPOINT?: string;

  /** Unset: the AWS SDK's own chain (AWS_REGION, the shared config file). */
  @ValidateIf((c: ArchiveConfig) => c.ARCHIVE_S3_REGION !== undefined)
  @EnvString({ accepts: 'a region name such as eu-west-1', pattern: /^[a-z0-9-]{1,64}$/ })
  ARCHIVE_S3_REGION?: string;

  /** Path-style URLs (`endpoint/bucket/key`), which most self-hosted S3-compatible services need. */
  @EnvBoolean()
  ARCHIVE_S3_FORCE_PATH_STYLE: boolean = false;
}

/** The variables `archiveTargetFromConfig` reads: a validated ArchiveConfig, or any configuration that extends it. */
export type ArchiveTargetSettings = Pick<
  ArchiveConfig,
  'ARCHIVE_TARGET' | 'ARCHIVE_DIR' | 'ARCHIVE_S3_BUCKET' | 'ARCHIVE_S3_PREFIX' | 'ARCHIVE_S3_ENDPOINT' | 'ARCHIVE_S3_REGION' | 'ARCHIVE_S3_FORCE_PATH_STYLE'
>;

/** The configured archive target, or null for ARCHIVE_TARGET=none. S3 credentials come from the AWS SDK's default chain. */
export function archiveTargetFromConfig(config: ArchiveTargetSettings): ArchiveTarget | null {
  switch (config.ARCHIVE_TARGET) {
    case 'none':
      return null;
    case 'directory':
      if (config.ARCHIVE_DIR === undefined) throw new Error('ARCHIVE_TARGET=directory needs ARCHIVE_DIR');
      return new DirectoryArchiveTarget(config.ARCHIVE_DIR);
    case 's3':
      if (config.ARCHIVE_S3_BUCKET === undefined) throw new Error('ARCHIVE_TARGET=s3 needs ARCHIVE_S3_BUCKET');
      return new S3ArchiveTarget({
        bucket: config.ARCHIVE_S3_BUCKET,
        prefix: config.ARCHIVE_S3_PREFIX,
        endpoint: config.ARCHIVE_S3_ENDPOINT,
        region: config.ARCHIVE_S3_REGION,
        forcePathStyle: config.ARCHIVE_S3_FORCE_PATH_STYLE,
      });
    default:
      throw new Error(`Unknown ARCHIVE_TARGET ${JSON.stringify(config.ARCHIVE_TARGET satisfies never)}`);
  }
}
