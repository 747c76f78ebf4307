import { sql, type RawBuilder } from 'kysely';
import type { LedgerEntry } from './ledger.table.ts';

/**
 * The order that decides a charge's first row: `transaction_date`, then `entry_id` by code point,
 * which is the byte order of PostgreSQL's `COLLATE "C"` on UTF-8 ({@link firstRowOrder} is the
 * same order in SQL). A run reconciles a charge by its first row; the finance outputs count it by it.
 */
export function compareFirstRows(a: Pick<LedgerEntry, 'entry_id' | 'transaction_date'>, b: Pick<LedgerEntry, 'entry_id' | 'transaction_date'>): number {
  if (a.transaction_date !== b.transaction_date) return a.transaction_date < b.transaction_date ? -1 : 1;
  return compareCodePoints(a.entry_id, b.entry_id);
}

/** Code point order. UTF-16 units sort alike, except that a surrogate (a code point above U+FFFF) sorts after U+E000–U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** {@link compareFirstRows} as an SQL sort key over the ledger rows `alias`. */
export function firstRowOrder(alias: string): RawBuilder<unknown> {
  return sql`${sql.ref(`${alias}.transaction_date`)}, ${sql.ref(`${alias}.entry_id`)} COLLATE "C"`;
}

/** Whether the row (`a.date`, `a.id`) comes before (`b.date`, `b.id`) in {@link compareFirstRows}'s order, in SQL. */
export function firstRowBefore(a: { date: string; id: string }, b: { date: string; id: string }): RawBuilder<boolean> {
  const [aDate, aId, bDate, bId] = [sql.ref(a.date), sql.ref(a.id), sql.ref(b.date), sql.ref(b.id)];
  return sql<boolean>`(${aDate} < ${bDate} OR (${aDate} = ${bDate} AND ${aId} COLLATE "C" < ${bId} COLLATE "C"))`;
}
