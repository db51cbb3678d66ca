import { readFileSync } from 'node:fs';
import { ConfigService } from '@nestjs/config';
import { credsAuthenticator, type ConnectionOptions } from 'nats';
import type { BaseConfig } from '@hookhub/platform';
import { SubjectNames } from '@hookhub/contracts';

/** The JetStream settings every app reads from its validated configuration. */
export interface JetstreamSettings {
  servers: string[];
  connectionName: string;
  /** How the connection authenticates and what TLS it uses (NATS_USER … NATS_TLS_KEY_FILE); empty without them. */
  credentials: NatsCredentials;
  /** How long the first connection may take before start-up fails (STARTUP_WAIT_MS). */
  startupWaitMs: number;
  replicas: number;
  duplicateWindowMs: number;
  maxAgeMs: number;
  subjects: SubjectNames;
}

/** The part of the NATS connection options that configuration sets: at most one way to authenticate, and TLS. */
export type NatsCredentials = Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;

/** Which credential the connection presents, for messages: never the credential itself. */
export function describeCredentials(credentials: NatsCredentials): string {
  if (credentials.user !== undefined) return `user ${credentials.user} (NATS_USER/NATS_PASSWORD)`;
  if (credentials.token !== undefined) return 'a token (NATS_TOKEN)';
  if (credentials.authenticator !== undefined) return 'a credentials file (NATS_CREDS_FILE)';
  return 'no credentials';
}

export function natsCredentials(config: ConfigService<BaseConfig, true>): NatsCredentials {
  const optional = (name: keyof BaseConfig): string | undefined => config.get(name, { infer: true }) as string | undefined;
  const credentials: NatsCredentials = {};
  const user = optional('NATS_USER');
  if (user !== undefined) Object.assign(credentials, { user, pass: optional('NATS_PASSWORD') });
  const token = optional('NATS_TOKEN');
  if (token !== undefined) credentials.token = token;
  const credsFile = optional('NATS_CREDS_FILE');
  if (credsFile !== undefined) credentials.authenticator = credsAuthenticator(readFileSync(credsFile));
  const [caFile, certFile, keyFile] = [optional('NATS_TLS_CA_FILE'), optional('NATS_TLS_CERT_FILE'), optional('NATS_TLS_KEY_FILE')];
  // Without any of them the server decides: nats.js upgrades to TLS when the server requires it, trusting the system CAs.
  if (caFile !== undefined || certFile !== undefined)
    credentials.tls = Object.fromEntries(Object.entries({ caFile, certFile, keyFile }).filter(([, v]) => v !== undefined));
  return credentials;
}

export function jetstreamSettings(config: ConfigService<BaseConfig, true>, connectionName: string): JetstreamSettings {
  return {
    servers: config
      .get('NATS_URL', { infer: true })
      .split(',')
      .map((s: string) => s.trim()),
    connectionName,
    credentials: natsCredentials(config),
    startupWaitMs: config.get('STARTUP_WAIT_MS', { infer: true }),
    replicas: config.get('JETSTREAM_REPLICAS', { infer: true }),
    duplicateWindowMs: config.get('JETSTREAM_DUPLICATE_WINDOW_MS', { infer: true }),
    maxAgeMs: config.get('JETSTREAM_MAX_AGE_MS', { infer: true }),
    subjects: new SubjectNames(config.get('JETSTREAM_PREFIX', { infer: true })),
  };
}

export const JETSTREAM_SETTINGS = Symbol('JETSTREAM_SETTINGS');
