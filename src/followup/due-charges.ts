import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { shiftDate } from '../dates.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { buildCases, buildOrphanCases, chargeKey, identifiers, type ChargeCase } from '../reconcile/charge-case.ts';

/** Why a charge that is not one of the night's own is asked (contract §8). */
export type DueReason = 'revisit' | 'recheck';

export interface DueCase {
  readonly chargeCase: ChargeCase;
  readonly reason: DueReason;
}

/**
 * The charges a night asks about besides its own, in the order they are asked: every open
 * charge not older than `openMaxDays`, oldest first (older ones are stale: listed, not asked),
 * then every final charge that has reached a re-check age since it was last asked, oldest
 * first. Each comes as a case with all its ledger rows, except rows already in one of the run's
 * own cases (`run_case_rows`), and charges the run already has are left out.
 */
export async function dueCases(
  db: Kysely<Database>,
  scope: { night: string; openMaxDays: number },
): Promise<DueCase[]> {
  const { rows: wanted } = await sql<{ charge_key: string; open: boolean }>`
    SELECT charge_key, open FROM charge_state s
    WHERE next_ask_on <= ${scope.night}::date
      AND (NOT open OR transaction_date >= ${shiftDate(scope.night, -scope.openMaxDays)}::date)
      AND NOT EXISTS (SELECT 1 FROM run_case_rows r WHERE r.charge_key = s.charge_key)
    ORDER BY open DESC, transaction_date, charge_key`.execute(db);
  if (!wanted.length) return [];
  const byKey = await casesForKeys(db, wanted.map((d) => d.charge_key));
  return wanted.flatMap((d) => {
    const chargeCase = byKey.get(d.charge_key);
    return chargeCase ? [{ chargeCase, reason: d.open ? 'revisit' : 'recheck' }] : [];
  });
}

/**
 * The cases of the charges with these keys, built from all their ledger rows whatever their
 * dates, keyed by the charge key each was asked by. A key whose rows are gone from the ledger
 * has no case.
 */
async function casesForKeys(db: Kysely<Database>, keys: string[]): Promise<Map<string, ChargeCase>> {
  const { rows: unclaimed } = await sql<LedgerEntry>`
    SELECT * FROM ledger_entries l
    WHERE (charge_id = ANY(${keys}::text[]) OR reference_order = ANY(${keys}::text[]) OR order_id = ANY(${keys}::text[]))
      AND NOT EXISTS (SELECT 1 FROM run_case_rows r WHERE r.entry_id = l.entry_id)
    ORDER BY ingested_at, source_file, source_line`.execute(db);
  const charges = unclaimed.filter((r) => r.entry_type === 'charge');
  const followUps = unclaimed.filter((r) => r.entry_type !== 'charge').sort((a, b) => a.entry_date.localeCompare(b.entry_date));
  const { cases, unlinked } = buildCases(charges, followUps);
  const wanted = new Set(keys);
  const byKey = new Map<string, ChargeCase>();
  for (const c of [...cases, ...buildOrphanCases(unlinked)]) {
    const key = [chargeKey(c.charge), ...identifiers(c.charge)].find((id) => wanted.has(id));
    if (key && !byKey.has(key)) byKey.set(key, c);
  }
  return byKey;
}
