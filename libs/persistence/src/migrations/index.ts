import { InitialSchema1764000000000 } from './1764000000000-initial-schema';
import { ParkedRetries1764000000001 } from './1764000000001-parked-retries';
import { ProviderIngest1764000000002 } from './1764000000002-provider-ingest';
import { DeliveryFillfactor1764000000003 } from './1764000000003-delivery-fillfactor';

/** Every migration, oldest first. New ones are appended here. */
export const MIGRATIONS = [InitialSchema1764000000000, ParkedRetries1764000000001, ProviderIngest1764000000002, DeliveryFillfactor1764000000003];
