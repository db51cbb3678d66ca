// Storage upkeep: the module every app imports, the report the admin API shows, and the retention run.
export { StorageModule } from './storage.module';
export { StorageReport, type PartitionStorage, type StorageReportData, type TableStorage } from './storage-report';
export { RetentionService, type RetentionSummary } from './retention.service';
export { PartitionMaintenance } from './partition-maintenance';
export { STORAGE_SETTINGS, type RetentionDays, type StorageSettings } from './storage.settings';
export { expiresAt, isExpired, RETENTION_OF, tenantCutoffs } from './retention-policy';
// The partition archive: its configuration and targets, and the archive's layout.
export { ArchiveVerificationError, DirectoryArchiveTarget, PartitionArchiver, S3ArchiveTarget, type ArchiveManifest, type ArchiveTarget } from './archive';
