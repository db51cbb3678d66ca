import { SNS_CERTIFICATE_HOST } from '@hookhub/providers';

/** What the ingest domain needs from the app's validated configuration. */
export interface IngestSettings {
  /** Hosts allowed to serve SNS signing certificates and subscription URLs. */
  snsHost: RegExp;
  /** Only for tests on loopback: accept http certificate and SubscribeURL addresses. */
  snsAllowHttp: boolean;
  /** How long a process may work on a stored callback before another may take it over. */
  leaseMs: number;
  /** Attempts before a callback that keeps failing to process is marked `failed`. */
  maxAttempts: number;
}

export const INGEST_SETTINGS = Symbol('INGEST_SETTINGS');

export const DEFAULT_INGEST_SETTINGS: IngestSettings = {
  snsHost: SNS_CERTIFICATE_HOST,
  snsAllowHttp: false,
  leaseMs: 30_000,
  maxAttempts: 20,
};
