/**
 * The time-partitioned tables, their partition keys, and the calendar of
 * their partitions: one per UTC day, named `<table>_p<YYYYMMDD>`, covering
 * [day, day + 1). A delivery's attempts are partitioned by the delivery's
 * `created_at`, so a day of deliveries and its attempts expire together.
 */
export const PARTITIONED_TABLES = {
  events: 'recorded_at',
  deliveries: 'created_at',
  delivery_attempts: 'delivery_created_at',
  provider_callbacks: 'received_at',
} as const;

export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

export const PARTITIONED_TABLE_NAMES = Object.keys(PARTITIONED_TABLES) as PartitionedTable[];

export const DAY_MS = 86_400_000;

/** Per-partition storage settings (a partitioned parent cannot hold them). */
const PARTITION_OPTIONS: Partial<Record<PartitionedTable, string>> = {
  // Every delivery is updated after its insert: room on the page keeps those updates HOT.
  deliveries: 'WITH (fillfactor = 70)',
};

/** Midnight UTC of the day `at` falls in. */
export function dayOf(at: Date | number): Date {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
}

export function addDays(day: Date, days: number): Date {
  return new Date(day.getTime() + days * DAY_MS);
}

/** `YYYY-MM-DD` of a UTC day. */
export function isoDay(day: Date): string {
  return day.toISOString().slice(0, 10);
}

export function partitionName(table: PartitionedTable, day: Date): string {
  return `${table}_p${isoDay(day).replace(/-/g, '')}`;
}

/** The day a partition's name stands for, or null when the name is not a day partition of `table`. */
export function partitionDay(table: PartitionedTable, name: string): Date | null {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  if (!m) return null;
  const day = new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00.000Z`);
  return Number.isNaN(day.getTime()) ? null : day;
}

/** Every day from `from`'s day to `to`'s day, both included. */
export function daysBetween(from: Date, to: Date): Date[] {
  const days: Date[] = [];
  for (let d = dayOf(from); d.getTime() <= dayOf(to).getTime(); d = addDays(d, 1)) days.push(d);
  return days;
}

/** Creates the day's partition unless it exists (callers serialise with an advisory lock). */
export function createPartitionSql(table: PartitionedTable, day: Date): string {
  const options = PARTITION_OPTIONS[table] ?? '';
  return `CREATE TABLE IF NOT EXISTS ${partitionName(table, day)} PARTITION OF ${table}
    FOR VALUES FROM ('${day.toISOString()}') TO ('${addDays(day, 1).toISOString()}') ${options}`;
}

/** The advisory lock key under which partitions are created and dropped ("hookhub partitions"). */
export const PARTITION_LOCK_KEY = 0x686f6f6b_7061;
