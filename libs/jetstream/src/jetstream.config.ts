import { ConfigService } from '@nestjs/config';
import type { BaseConfig } from '@hookhub/platform';
import { SubjectNames } from '@hookhub/contracts';

/** The JetStream settings every app reads from its validated configuration. */
export interface JetstreamSettings {
  servers: string[];
  connectionName: string;
  replicas: number;
  duplicateWindowMs: number;
  maxAgeMs: number;
  subjects: SubjectNames;
}

export function jetstreamSettings(config: ConfigService<BaseConfig, true>, connectionName: string): JetstreamSettings {
  return {
    servers: config
      .get('NATS_URL', { infer: true })
      .split(',')
      .map((s: string) => s.trim()),
    connectionName,
    replicas: config.get('JETSTREAM_REPLICAS', { infer: true }),
    duplicateWindowMs: config.get('JETSTREAM_DUPLICATE_WINDOW_MS', { infer: true }),
    maxAgeMs: config.get('JETSTREAM_MAX_AGE_MS', { infer: true }),
    subjects: new SubjectNames(config.get('JETSTREAM_PREFIX', { infer: true })),
  };
}

export const JETSTREAM_SETTINGS = Symbol('JETSTREAM_SETTINGS');
