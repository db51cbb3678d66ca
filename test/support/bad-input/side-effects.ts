/** What a request could have changed: database rows, stream messages, built-in prototypes. */
import { Client } from 'pg';
import { connect as natsConnect, JetStreamManager, NatsConnection } from 'nats';

export interface WorldState {
  tables: Record<string, string>;
  streams: Record<string, string>;
  prototypes: string;
  /** Whatever else the suite watches (say, requests a test receiver got). */
  extra: string;
}

/**
 * Fingerprints everything a request could change: every table of the test
 * database (row count and an md5 of all rows), every JetStream stream of the
 * test prefix (message count and last sequence) and the built-in prototypes.
 */
export class SideEffectProbe {
  private jsm?: JetStreamManager;

  private constructor(
    private readonly db: Client,
    private readonly nc: NatsConnection,
    private readonly streamPrefix: string,
    private readonly query: string,
    private readonly extra: () => string,
  ) {}

  static async open(
    target: { databaseUrl: string; natsUrl: string; prefix: string },
    options: { ignoreTables?: string[]; extra?: () => string } = {},
  ): Promise<SideEffectProbe> {
    const db = new Client({ connectionString: target.databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    const tables = rows.map((r) => r.name).filter((t) => !options.ignoreTables?.includes(t));
    if (tables.length === 0) throw new Error('no tables to watch: run the migrations first');
    const query = tables
      .map((t) => `SELECT '${t}' AS name, count(*)::text || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS sum FROM "${t}" x`)
      .join(' UNION ALL ');
    const nc = await natsConnect({ servers: target.natsUrl });
    return new SideEffectProbe(db, nc, `${target.prefix.toUpperCase()}_`, query, options.extra ?? (() => ''));
  }

  async capture(): Promise<WorldState> {
    const streams: Record<string, string> = {};
    const listStreams = async () => {
      this.jsm ??= await this.nc.jetstreamManager();
      for await (const info of this.jsm.streams.list()) {
        if (info.config.name.startsWith(this.streamPrefix)) streams[info.config.name] = `${info.state.messages} messages, last seq ${info.state.last_seq}`;
      }
    };
    const [{ rows }] = await Promise.all([this.db.query<{ name: string; sum: string }>(this.query), listStreams()]);
    return { tables: Object.fromEntries(rows.map((r) => [r.name, r.sum])), streams, prototypes: prototypeFingerprint(), extra: this.extra() };
  }

  /** Throws, naming what changed, unless the world is as `before`. */
  async expectUnchanged(before: WorldState, context = ''): Promise<void> {
    const after = await this.capture();
    const changed: string[] = [];
    for (const [t, sum] of Object.entries(before.tables)) if (after.tables[t] !== sum) changed.push(`table ${t}: ${sum} → ${after.tables[t]}`);
    const names = new Set([...Object.keys(before.streams), ...Object.keys(after.streams)]);
    for (const s of names) if (before.streams[s] !== after.streams[s]) changed.push(`stream ${s}: ${before.streams[s]} → ${after.streams[s]}`);
    if (before.prototypes !== after.prototypes) changed.push(`built-in prototypes: ${before.prototypes} → ${after.prototypes}`);
    if (before.extra !== after.extra) changed.push(`${before.extra} → ${after.extra}`);
    if (changed.length) throw new Error(`side effect${context ? ` of ${context}` : ''}: ${changed.join('; ')}`);
  }

  async close(): Promise<void> {
    await this.db.end();
    await this.nc.close();
  }
}

function prototypeFingerprint(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Reflect.ownKeys(p).map(String).sort().join(',')).join('|');
}
