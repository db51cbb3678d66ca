import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Client, Notification } from 'pg';
import { ApiKeyRepository, ApiKeyRole } from '@hookhub/persistence';

/** What a request needs of its API key. */
export interface ActiveKey {
  id: string;
  tenantId: string;
  roles: ApiKeyRole[];
}

/** Every pod's listener connection is named `<prefix><pod id>` (PostgreSQL's application_name). */
export const LISTENER_NAME_PREFIX = 'hookhub-api-keys:';
/** How often the listener's connection is proven alive by a round trip. */
export const HEARTBEAT_MS = 1_000;
/**
 * A pod trusts its cache only while its listener's last completed round trip
 * was sent less than this long ago; a revocation waits at most this long (plus
 * REVOKE_MARGIN_MS) for a pod that does not confirm.
 */
export const STALE_MS = 3_000;
const REVOKE_MARGIN_MS = 250;
/** How often a waiting revocation asks PostgreSQL which listeners are still connected. */
const MEMBERSHIP_POLL_MS = 200;
/** Keys a pod keeps; the least recently used leave first. */
const MAX_KEYS = 10_000;
/**
 * A cached key is read again after this long. Not needed for revocations through
 * the API (they are notified), only to bound what changes outside it (a key row
 * revoked or a tenant deleted in SQL) can leave behind.
 */
const ENTRY_TTL_MS = 5 * 60_000;
const RECONNECT_MS = 1_000;

/**
 * API keys a pod has looked up, so that a request costs no database round trip
 * (the lookup was a third of the API's CPU time under load, and a PostgreSQL
 * round trip on every publish).
 *
 * Revocation stays immediate across pods (README: "revocation is immediate for
 * the API"): when `DELETE /v1/api-keys/:id` answers, no pod accepts the key any
 * more. How:
 *
 * - The revoking statement NOTIFYs `ApiKeyRepository.REVOKED_CHANNEL` with the
 *   key's id (sent by PostgreSQL at commit). Every pod LISTENs on a connection of
 *   its own, named `LISTENER_NAME_PREFIX<pod id>`; on the notification it drops
 *   the key and confirms on FORGOTTEN_CHANNEL.
 * - The revoking request waits until every listener connected to the database
 *   (pg_stat_activity, polled) has confirmed, then answers.
 * - A pod that cannot confirm (frozen, cut off from PostgreSQL, its connection
 *   half-open) must not serve from its cache either: a pod uses its cache only
 *   while its listener's last completed heartbeat (`SELECT 1` every HEARTBEAT_MS)
 *   was sent less than STALE_MS ago. PostgreSQL delivers a connection's
 *   notifications before the answer to a query sent after their commit, so such a
 *   heartbeat proves every revocation committed before it was applied. The
 *   revoking request therefore waits at most STALE_MS (+ margin) for a pod that
 *   does not confirm: by then that pod's cache is out of use until it has caught
 *   up. Otherwise the wait is one notification round trip (milliseconds).
 * - A lookup that was in flight while a revocation (or a reconnect) was applied
 *   is answered but not cached (`generation`), so a read from before the
 *   revocation cannot put the key back.
 * - Without a listener (not yet connected, connection lost) every request reads
 *   the database, as before; the cache is emptied on every (re)connect, since
 *   notifications sent meanwhile were missed.
 *
 * Considered and not taken: a per-request check of the key row, even batched,
 * keeps a round trip on every request; a short TTL alone is not immediate.
 * Keys are held by a SHA-256 of the token, never the token itself.
 */
export class ApiKeyCache {
  private readonly log = new Logger('ApiKeyCache');
  readonly name = `${LISTENER_NAME_PREFIX}${randomUUID()}`;
  private readonly entries = new LRUCache<string, ActiveKey>({ max: MAX_KEYS, ttl: ENTRY_TTL_MS });
  /** Bumped by every revocation heard and every (re)connect: lookups started before it are not cached. */
  private generation = 0;
  private client?: Client;
  private listening = false;
  /** performance.now() when the last completed heartbeat (or the LISTEN) was sent. */
  private provenAt = -Infinity;
  private beatInFlight = false;
  private heartbeat?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private closed = false;
  /** Confirmations collected for revocations this pod is waiting on: key id -> listener names. */
  private readonly confirmations = new Map<string, { names: Set<string>; changed: () => void }>();

  constructor(
    private readonly databaseUrl: string,
    private readonly keys: ApiKeyRepository,
  ) {}

  start(): void {
    this.closed = false;
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnect);
    const client = this.client;
    this.drop();
    await client?.end().catch(() => undefined);
  }

  /** The key a token names, if it exists and is not revoked: from the cache when the cache may be trusted, else from the database. */
  async findActive(token: string): Promise<ActiveKey | null> {
    const digest = createHash('sha256').update(token).digest('base64');
    if (this.trusted()) {
      const known = this.entries.get(digest);
      if (known) return known;
    }
    const generation = this.generation;
    const entity = await this.keys.findActiveByKey(token);
    if (!entity) return null;
    const key: ActiveKey = { id: entity.id, tenantId: entity.tenantId, roles: entity.roles };
    if (this.listening && generation === this.generation) this.entries.set(digest, key);
    return key;
  }

  /**
   * Revokes a key (false: no such unrevoked key of the tenant) and returns once
   * no pod accepts it any more: every connected listener has confirmed, or
   * STALE_MS has passed, after which a pod that did not confirm cannot be using
   * its cache.
   */
  async revoke(tenantId: string, keyId: string): Promise<boolean> {
    const names = new Set<string>();
    let wake: () => void = () => undefined;
    // Registered before the revocation commits: a confirmation may come back before the UPDATE's own answer.
    this.confirmations.set(keyId, { names, changed: () => wake() });
    try {
      if (!(await this.keys.revoke(tenantId, keyId))) return false;
      this.forget(keyId);
      const deadline = performance.now() + STALE_MS + REVOKE_MARGIN_MS;
      for (;;) {
        const connected = await this.keys.connectionsNamed(LISTENER_NAME_PREFIX);
        const waiting = connected.filter((n) => !names.has(n));
        if (waiting.length === 0) return true;
        const left = deadline - performance.now();
        if (left <= 0) {
          this.log.warn(
            { apiKeyId: keyId, unconfirmed: waiting },
            `API key revoked; ${waiting.length} pod(s) did not confirm within ${STALE_MS} ms, so their caches are out of use until they catch up`,
          );
          return true;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, MEMBERSHIP_POLL_MS));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      this.confirmations.delete(keyId);
    }
  }

  /** Whether a cached key may be used now: see the class comment. */
  private trusted(): boolean {
    return this.listening && performance.now() - this.provenAt < STALE_MS;
  }

  private forget(keyId: string): void {
    this.generation++;
    for (const [digest, key] of this.entries.entries()) if (key.id === keyId) this.entries.delete(digest);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.databaseUrl, application_name: this.name });
    this.client = client;
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (n) => this.heard(client, n));
    try {
      await client.connect();
      const sentAt = performance.now();
      await client.query(`LISTEN ${ApiKeyRepository.REVOKED_CHANNEL}; LISTEN ${ApiKeyRepository.FORGOTTEN_CHANNEL}`);
      if (this.client !== client) return;
      // Notifications sent before the LISTEN were missed: start empty, and let no lookup from before it fill the cache.
      this.entries.clear();
      this.generation++;
      this.provenAt = sentAt;
      this.listening = true;
    } catch (err) {
      this.lost(client, err);
    }
  }

  private heard(client: Client, n: Notification): void {
    if (n.channel === ApiKeyRepository.REVOKED_CHANNEL && n.payload) {
      this.forget(n.payload);
      // Confirmed only after the key is gone from this pod's cache (forget is synchronous).
      client.query('SELECT pg_notify($1, $2)', [ApiKeyRepository.FORGOTTEN_CHANNEL, `${this.name} ${n.payload}`]).catch((err) => this.lost(client, err));
    } else if (n.channel === ApiKeyRepository.FORGOTTEN_CHANNEL && n.payload) {
      const [name, keyId] = n.payload.split(' ');
      const waiting = this.confirmations.get(keyId);
      if (waiting) {
        waiting.names.add(name);
        waiting.changed();
      }
    }
  }

  private async beat(): Promise<void> {
    const client = this.client;
    if (!client || !this.listening) return;
    if (this.beatInFlight) {
      // A heartbeat unanswered for this long means a connection that will not answer (half-open): start over.
      if (performance.now() - this.provenAt > STALE_MS + HEARTBEAT_MS) this.lost(client, new Error(`no answer to the heartbeat within ${STALE_MS} ms`));
      return;
    }
    this.beatInFlight = true;
    const sentAt = performance.now();
    try {
      await client.query('SELECT 1');
      if (this.client === client) this.provenAt = sentAt;
    } catch (err) {
      this.lost(client, err);
    } finally {
      if (this.client === client) this.beatInFlight = false;
    }
  }

  /** The listener's connection failed: the cache is out of use (and emptied) until a new one listens. */
  private lost(client: Client, err: unknown): void {
    if (this.client !== client) return;
    const wasListening = this.listening;
    this.drop();
    client.end().catch(() => undefined);
    if (this.closed) return;
    if (wasListening)
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'API key cache listener lost; reading keys from PostgreSQL until it is back');
    this.reconnect = setTimeout(() => void this.connect(), RECONNECT_MS);
    this.reconnect.unref();
  }

  private drop(): void {
    this.client = undefined;
    this.listening = false;
    this.beatInFlight = false;
    this.provenAt = -Infinity;
    this.entries.clear();
    this.generation++;
  }
}
