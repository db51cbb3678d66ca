import type { BaseConfig } from '@hookhub/platform';
import type { ArchiveTarget } from './archive-target';
import { DirectoryArchiveTarget } from './directory-archive-target';
import { S3ArchiveTarget } from './s3-archive-target';

export const ARCHIVE_TARGET_KINDS = ['none', 'directory', 's3'] as const;
export type ArchiveTargetKind = (typeof ARCHIVE_TARGET_KINDS)[number];

/** The variables `archiveTargetFromConfig` reads (declared with the other storage settings in BaseConfig). */
export type ArchiveTargetSettings = Pick<
  BaseConfig,
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
