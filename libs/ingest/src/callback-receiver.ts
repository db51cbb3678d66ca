import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ProviderCallbackRepository, ProviderConnectionEntity, ProviderConnectionRepository } from '@hookhub/persistence';
import { Credentials, IngestRequest, MalformedCallbackError, ProviderAdapter, ProviderReply, UnsupportedMediaTypeError } from '@hookhub/providers';
import type { TraceContext } from '@hookhub/tracing';
import { CallbackProcessor } from './callback-processor';
import { ConnectionCredentials } from './connection-credentials';
import { INGEST_SETTINGS, IngestSettings } from './ingest.settings';
import { ProviderRegistry } from './provider-registry';

/** A request as the HTTP layer saw it, before the connection is known. */
export interface IncomingCallback {
  method: string;
  /** Path and query exactly as received. */
  originalUrl: string;
  /** `proto://host` this request reached, as the provider addressed it (proxy headers applied when trusted). */
  origin: string;
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  /** The request's server span (tracing on): the events made of the callback continue its trace. */
  trace?: TraceContext;
}

export type ReceiveOutcome =
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed' }
  | { kind: 'reply'; reply: ProviderReply }
  | { kind: 'unauthorized'; reason: string }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'malformed'; detail: string }
  | { kind: 'unsupported_media_type'; detail: string }
  | { kind: 'accepted'; callbackId: string | null; duplicate: boolean };

/** Headers that carry credentials of the caller and must not be kept. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/**
 * Checks a provider callback and stores it durably before it is acknowledged;
 * nothing is stored unless the signature is right and the body readable.
 */
@Injectable()
export class CallbackReceiver {
  private readonly logger = new Logger(CallbackReceiver.name);

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly connections: ProviderConnectionRepository,
    private readonly callbacks: ProviderCallbackRepository,
    private readonly credentials: ConnectionCredentials,
    private readonly processor: CallbackProcessor,
    @Inject(INGEST_SETTINGS) private readonly settings: IngestSettings,
  ) {}

  async receive(provider: string, connectionId: string, incoming: IncomingCallback): Promise<ReceiveOutcome> {
    if (!ProviderRegistry.isProvider(provider)) return { kind: 'not_found' };
    const connection = await this.connections.findById(connectionId);
    if (!connection || connection.provider !== provider) return { kind: 'not_found' };
    const adapter = this.registry.get(provider);
    const credentials = this.credentials.open(connection);
    const req = this.requestOf(connection, incoming);

    if (req.method === 'GET' && !adapter.acceptsGet) {
      const reply = adapter.handshake?.(req, credentials) ?? null;
      return reply ? { kind: 'reply', reply } : { kind: 'method_not_allowed' };
    }
    const verification = await adapter.verify(req, credentials);
    if (!verification.ok) {
      this.logger.warn({ provider, connectionId, reason: verification.reason }, 'provider callback rejected');
      return verification.unavailable ? { kind: 'unavailable', reason: verification.reason } : { kind: 'unauthorized', reason: verification.reason };
    }
    // After the signature: a forged callback learns nothing about what would have been read.
    try {
      await adapter.parse(req);
    } catch (err) {
      if (err instanceof UnsupportedMediaTypeError) return { kind: 'unsupported_media_type', detail: err.message };
      if (err instanceof MalformedCallbackError) return { kind: 'malformed', detail: err.message };
      throw err;
    }
    const stored = await this.callbacks.insertPending(
      {
        id: randomUUID(),
        connectionId: connection.id,
        tenantId: connection.tenantId,
        provider,
        digest: createHash('sha256').update(`${req.method}\u0000${req.url}\u0000`).update(req.rawBody).digest('hex'),
        method: req.method,
        url: req.url,
        headers: this.keptHeaders(adapter, credentials, req.headers),
        body: req.rawBody,
        receivedAt: req.receivedAt,
      },
      this.settings.leaseMs,
    );
    if (!stored) return { kind: 'accepted', callbackId: null, duplicate: true };
    // Publishing happens after the answer: the provider only waits for durable storage.
    this.processor.processSoon(stored, incoming.trace);
    return { kind: 'accepted', callbackId: stored.id, duplicate: false };
  }

  private requestOf(connection: ProviderConnectionEntity, incoming: IncomingCallback): IngestRequest {
    const queryAt = incoming.originalUrl.indexOf('?');
    const query = queryAt >= 0 ? incoming.originalUrl.slice(queryAt) : '';
    const url = connection.publicUrl ? connection.publicUrl.replace(/\?.*$/, '') + query : incoming.origin + incoming.originalUrl;
    return {
      method: incoming.method === 'GET' ? 'GET' : 'POST',
      url,
      headers: incoming.headers,
      rawBody: incoming.rawBody,
      receivedAt: new Date(),
    };
  }

  private keptHeaders(adapter: ProviderAdapter, credentials: Credentials, headers: IncomingCallback['headers']): Record<string, string> {
    // Header names that a connection configured as secret-bearing (Gupshup) are credentials too.
    const configured = new Set(
      Object.keys(adapter.credentials)
        .filter((f) => f.endsWith('header_name'))
        .map((f) => credentials[f]?.toLowerCase())
        .filter((x): x is string => !!x),
    );
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || CREDENTIAL_HEADERS.has(name) || configured.has(name)) continue;
      kept[name] = value;
    }
    return kept;
  }
}
