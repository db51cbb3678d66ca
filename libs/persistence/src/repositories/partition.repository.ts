import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  addDays,
  createPartitionSql,
  partitionDay,
  partitionName,
  PARTITION_LOCK_KEY,
  PARTITIONED_TABLE_NAMES,
  PartitionedTable,
} from '../partitions/partition-calendar';
import { returnedRows } from './sql';

/** One day partition of a partitioned table, attached or left detached by an interrupted expiry. */
export interface PartitionInfo {
  table: PartitionedTable;
  name: string;
  /** The UTC day it holds: [day, day + 1). */
  day: Date;
  /** Table, TOAST and indexes. */
  bytes: number;
  /** PostgreSQL's estimate (pg_class.reltuples; -1 before the first ANALYZE). */
  rowsEstimate: number;
  /** false: detached from its table by an expiry that did not finish (its rows are no longer read). */
  attached: boolean;
  /** A `DETACH … CONCURRENTLY` was interrupted and must be finalised. */
  detachPending: boolean;
}

/** Rows removed by a bounded delete, per table. */
export type DeletedRows = Record<PartitionedTable, number>;

const LIVE_DELIVERY = `status IN ('pending', 'retrying')`;

/**
 * The partitions of the tables that grow with traffic (see partition-calendar):
 * creating them ahead of time, listing them with their sizes, checking what an
 * expiring one still holds that is needed, detaching and dropping it, and the
 * bounded row deletes for tenants with a shorter retention than the partitions'.
 */
@Injectable()
export class PartitionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Creates the missing partitions of every table for these days. Pods call
   * this at start-up and then periodically: the advisory lock makes them take
   * turns, and a partition that exists is skipped without taking any lock.
   */
  async ensure(days: Date[], tables: readonly PartitionedTable[] = PARTITIONED_TABLE_NAMES): Promise<string[]> {
    const have = new Set((await this.list()).filter((p) => p.attached).map((p) => p.name));
    const missing = tables.flatMap((table) => days.map((day) => ({ table, day }))).filter(({ table, day }) => !have.has(partitionName(table, day)));
    if (missing.length === 0) return [];
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock($1)`, [PARTITION_LOCK_KEY]);
      for (const { table, day } of missing) await m.query(createPartitionSql(table, day));
      return missing.map(({ table, day }) => partitionName(table, day));
    });
  }

  /** Every day partition, attached or left detached by an interrupted expiry, oldest first. */
  async list(): Promise<PartitionInfo[]> {
    const rows: Array<{ table: string | null; name: string; bytes: string; rows: number; attached: boolean; detach_pending: boolean | null }> =
      await this.dataSource.query(
        `SELECT parent.relname AS table, c.relname AS name, pg_total_relation_size(c.oid) AS bytes, c.reltuples AS rows,
                i.inhrelid IS NOT NULL AS attached, i.inhdetachpending AS detach_pending
           FROM pg_class c
           LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
           LEFT JOIN pg_class parent ON parent.oid = i.inhparent
          WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND c.relname ~ $1`,
        [`^(${PARTITIONED_TABLE_NAMES.join('|')})_p[0-9]{8}$`],
      );
    const found: PartitionInfo[] = [];
    for (const r of rows) {
      const table = PARTITIONED_TABLE_NAMES.find((t) => partitionDay(t, r.name) !== null);
      if (!table || (r.table !== null && r.table !== table)) continue;
      found.push({
        table,
        name: r.name,
        day: partitionDay(table, r.name)!,
        bytes: Number(r.bytes),
        rowsEstimate: Number(r.rows),
        attached: r.attached,
        detachPending: r.detach_pending === true,
      });
    }
    return found.sort((a, b) => a.day.getTime() - b.day.getTime() || a.table.localeCompare(b.table));
  }

  /**
   * Each partitioned table's rows now (its partitions' live rows) and as its
   * own statistics last counted them (the parent's `reltuples`, set by
   * ANALYZE; null when it was never analysed): what decides when it is
   * analysed again (see `analyze`), the same for every pod.
   */
  async statisticsAge(): Promise<Record<PartitionedTable, { rows: number; analysedRows: number | null }>> {
    const rows: Array<{ name: PartitionedTable; live: string; analysed: number }> = await this.dataSource.query(
      `SELECT t AS name,
              (SELECT coalesce(sum(s.n_live_tup), 0) FROM pg_partition_tree(t::regclass) p JOIN pg_stat_user_tables s ON s.relid = p.relid) AS live,
              (SELECT c.reltuples FROM pg_class c WHERE c.oid = t::regclass) AS analysed
         FROM unnest($1::text[]) t`,
      [PARTITIONED_TABLE_NAMES],
    );
    return Object.fromEntries(rows.map((r) => [r.name, { rows: Number(r.live), analysedRows: r.analysed < 0 ? null : Number(r.analysed) }])) as Record<
      PartitionedTable,
      { rows: number; analysedRows: number | null }
    >;
  }

  /**
   * Gathers the statistics of a partitioned table as a whole. Autovacuum
   * analyses the partitions but never their parent, and without the parent's
   * statistics the planner guesses how many rows a join with the table finds
   * (and picks hash joins over whole partitions where an index would do).
   */
  async analyze(table: PartitionedTable): Promise<void> {
    await this.dataSource.query(`ANALYZE ${table}`);
  }

  /** Whether a partition holds any row (one page read, not a count). */
  async hasRows(name: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM ${quoteName(name)} LIMIT 1`);
    return rows.length > 0;
  }

  /**
   * Why a partition must stay although it expired: deliveries still pending
   * or retrying, callbacks not yet turned into events, or events that a live
   * delivery (in any partition) still has to send. 0 when it may go.
   */
  async stillNeeded(p: PartitionInfo): Promise<number> {
    const name = quoteName(p.name);
    const sql: Record<PartitionedTable, string> = {
      deliveries: `SELECT count(*)::int AS n FROM ${name} WHERE ${LIVE_DELIVERY}`,
      delivery_attempts: `SELECT count(*)::int AS n FROM deliveries d
                           WHERE d.created_at >= $1 AND d.created_at < $2 AND d.${LIVE_DELIVERY}`,
      provider_callbacks: `SELECT count(*)::int AS n FROM ${name} WHERE state = 'pending'`,
      // A delivery is never older than its event: only deliveries created since the partition's day can need it.
      events: `SELECT count(*)::int AS n FROM deliveries d JOIN ${name} e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
                WHERE d.created_at >= $1 AND d.${LIVE_DELIVERY}`,
    };
    const params = p.table === 'delivery_attempts' ? [p.day, addDays(p.day, 1)] : p.table === 'events' ? [p.day] : [];
    const [row] = (await this.dataSource.query(sql[p.table], params)) as Array<{ n: number }>;
    return row.n;
  }

  /**
   * Takes a partition out of its table without blocking the table's readers
   * and writers (`DETACH … CONCURRENTLY`, which waits for the transactions
   * using it), finishing a detach an earlier run left pending. Its rows stay
   * in the detached table until `drop`.
   */
  async detach(p: PartitionInfo): Promise<void> {
    if (!p.attached) return;
    const mode = p.detachPending ? 'FINALIZE' : 'CONCURRENTLY';
    await this.dataSource.query(`ALTER TABLE ${p.table} DETACH PARTITION ${quoteName(p.name)} ${mode}`);
  }

  async drop(p: PartitionInfo): Promise<void> {
    if (p.attached) throw new Error(`${p.name} is still attached to ${p.table}: detach it first`);
    await this.dataSource.query(`DROP TABLE IF EXISTS ${quoteName(p.name)}`);
  }

  /**
   * Deletes, for one tenant, at most `limit` rows of each table older than its
   * cutoff, keeping what is still needed (as `stillNeeded`): the bounded step
   * of a retention shorter than the partitions'. A delivery's attempts go with it.
   */
  async deleteTenantRows(tenantId: string, before: Record<PartitionedTable, Date | null>, limit: number): Promise<DeletedRows> {
    const deleted: DeletedRows = { events: 0, deliveries: 0, delivery_attempts: 0, provider_callbacks: 0 };
    await this.dataSource.transaction(async (m) => {
      const subs = await idsOf(m, `SELECT id FROM subscriptions WHERE tenant_id = $1`, [tenantId]);
      if (before.deliveries && subs.length > 0) {
        const [row] = (await m.query(
          `WITH gone AS (
             DELETE FROM deliveries WHERE (id, created_at) IN (
               SELECT id, created_at FROM deliveries
                WHERE subscription_id = ANY($1) AND created_at < $2 AND NOT ${LIVE_DELIVERY} LIMIT $3)
             RETURNING id, created_at
           ), attempts AS (
             DELETE FROM delivery_attempts a USING gone g WHERE a.delivery_id = g.id AND a.delivery_created_at = g.created_at RETURNING 1
           )
           SELECT (SELECT count(*) FROM gone)::int AS deliveries, (SELECT count(*) FROM attempts)::int AS attempts`,
          [subs, before.deliveries, limit],
        )) as Array<{ deliveries: number; attempts: number }>;
        deleted.deliveries = row.deliveries;
        deleted.delivery_attempts = row.attempts;
      }
      if (before.events) {
        const rows = returnedRows<{ id: string }>(
          await m.query(
            `DELETE FROM events WHERE (tenant_id, id, recorded_at) IN (
               SELECT e.tenant_id, e.id, e.recorded_at FROM events e
                WHERE e.tenant_id = $1 AND e.recorded_at < $2
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subscription_id = ANY($3) AND d.event_id = e.id
                                     AND d.created_at >= e.recorded_at AND d.${LIVE_DELIVERY})
                LIMIT $4)
             RETURNING id`,
            [tenantId, before.events, subs, limit],
          ),
        );
        deleted.events = rows.length;
      }
      if (before.provider_callbacks) {
        const rows = returnedRows<{ id: string }>(
          await m.query(
            `DELETE FROM provider_callbacks WHERE (id, received_at) IN (
               SELECT c.id, c.received_at FROM provider_callbacks c
                WHERE c.connection_id IN (SELECT id FROM provider_connections WHERE tenant_id = $1)
                  AND c.received_at < $2 AND c.state <> 'pending'
                LIMIT $3)
             RETURNING id`,
            [tenantId, before.provider_callbacks, limit],
          ),
        );
        deleted.provider_callbacks = rows.length;
      }
    });
    return deleted;
  }
}

/** Partition names come from the catalogue and match a strict pattern; quoting still keeps them inert. */
function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function idsOf(m: EntityManager, sql: string, params: unknown[]): Promise<string[]> {
  const rows: Array<{ id: string }> = await m.query(sql, params);
  return rows.map((r) => r.id);
}
