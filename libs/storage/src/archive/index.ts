// The partition archive (issue 12): what the retention run wires and calls, the targets, their configuration,
// and the archive's layout and manifest types.
export { PartitionArchiver, ARCHIVE_CONNECTIONS, ARCHIVE_TARGET, type ArchiveConnections } from './partition-archiver';
export { type ArchiveTarget } from './archive-target';
export { DirectoryArchiveTarget } from './directory-archive-target';
export { S3ArchiveTarget, type S3ArchiveTargetOptions } from './s3-archive-target';
export { ARCHIVE_TARGET_KINDS, archiveTargetFromConfig, type ArchiveTargetKind, type ArchiveTargetSettings } from './archive.config';
export { ArchiveError, ArchiveVerificationError } from './archive-errors';
export {
  ARCHIVE_FORMAT,
  archiveDayFolder,
  archiveFileKey,
  archiveManifestKey,
  type ArchivedColumn,
  type ArchivedFile,
  type ArchiveManifest,
  type DayManifest,
  type PartitionExport,
} from './archive-manifest';
