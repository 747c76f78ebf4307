import { sql, type RawBuilder } from 'kysely';

/**
 * Whether the ledger row `alias.entry_id` is in use: no active retraction names it. Every
 * reader that counts ledger rows (reconciliation, reports, finance outputs) filters with this,
 * so a row booked by mistake and retracted is left out everywhere alike.
 */
export function isLive(alias: string): RawBuilder<boolean> {
  return sql<boolean>`NOT EXISTS (SELECT 1 FROM ledger_retractions lr WHERE lr.entry_id = ${sql.ref(`${alias}.entry_id`)} AND lr.undone_at IS NULL)`;
}
