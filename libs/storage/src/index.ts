// Storage upkeep: the module every app imports (the dispatcher with retention), and the report the admin API shows.
export { StorageModule } from './storage.module';
export { StorageReport, type PartitionStorage, type StorageReportData, type TableStorage } from './storage-report';
export { STORAGE_SETTINGS, type StorageSettings } from './storage.settings';
