import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export interface Page<T> {
  items: T[];
  /** The id of the page's last item when more follow; passed back as `cursor` for the next page. */
  nextCursor: string | null;
}

export interface KeysetRequest {
  /** The timestamp column the list is ordered by, newest first (ties broken by id, also descending). */
  orderedBy: string;
  limit: number;
  /** The id of the last item of the previous page. */
  cursor?: string;
  /**
   * The column and value a cursor must match to count (the list's owner, e.g. its tenant): a cursor
   * taken from someone else's list positions nothing and yields an empty page.
   */
  cursorWithin: { column: string; value: string };
}

/**
 * Reads one page of the query builder's rows, newest first. Positioning by the
 * cursor row's (timestamp, id) pair rather than an offset means rows sharing a
 * timestamp are neither repeated nor skipped, and rows inserted meanwhile do not
 * shift the pages. One row beyond `limit` is read to know whether more follow.
 */
export async function keysetPage<T extends ObjectLiteral & { id: string }>(qb: SelectQueryBuilder<T>, page: KeysetRequest): Promise<Page<T>> {
  const a = qb.alias;
  const table = qb.expressionMap.mainAlias!.metadata.tableName;
  const at = page.orderedBy;
  qb.orderBy(`${a}.${at}`, 'DESC')
    .addOrderBy(`${a}.id`, 'DESC')
    .limit(page.limit + 1);
  if (page.cursor) {
    qb.andWhere(`(${a}.${at}, ${a}.id) < (SELECT k.${at}, k.id FROM ${table} k WHERE k.id = :keysetCursor AND k.${page.cursorWithin.column} = :keysetOwner)`, {
      keysetCursor: page.cursor,
      keysetOwner: page.cursorWithin.value,
    });
  }
  const rows = await qb.getMany();
  const items = rows.slice(0, page.limit);
  return { items, nextCursor: rows.length > page.limit ? items[items.length - 1].id : null };
}
