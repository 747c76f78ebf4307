import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/ingest/ledger.table.ts';
import { clearRunWork, readCases, selectOwnCases } from '../../src/run/ingest-cases.ts';
import { buildCases, identifiers, type ChargeCase } from '../../src/reconcile/charge-case.ts';
import { seededRandom } from '../../src/simulator/prng.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * Differential: the run's cases as SQL selects and groups them (`run_case_rows`, read a page at a
 * time) are exactly those of the in-memory grouping (`buildCases`) over the rows a run covers,
 * selected as docs/reference.md §4.1 says: rows of the dates, refund and void rows booked in them, those
 * older charges' rows (v2), and the charge rows of every selected charge on other dates, with
 * their rows (v3). Ledgers are random with few ids, so that charge rows share ids (duplicates,
 * on one date or several, chains of them), refunds name their charge by any id, or by none of
 * the run.
 */

const { db } = await createTestDatabase();
const FROM = '2026-03-04';
const TO = '2026-03-06';

describe('the run’s cases, selected and grouped in SQL', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    // Odd seeds look the other dates' charge rows up by a hash of the ids, even ones by a join.
    const hashedIds = seed % 2 ? undefined : 0;
    it(`are buildCases’s over the rows the run covers (seed ${seed})`, async () => {
      const ledger = randomLedger(seed, 600);
      await sql`TRUNCATE ledger_entries`.execute(db);
      await db.insertInto('ledger_entries').values(ledger).execute();
      const stored = await db.selectFrom('ledger_entries').selectAll().execute();
      await clearRunWork(db);

      const own = await selectOwnCases(db, FROM, TO, hashedIds);
      const cases: ChargeCase[] = [];
      for await (const page of readCases(db, 1, own.count)) {
        expect(page.map((c) => c.no)).toEqual(page.map((_, i) => cases.length + 1 + i));
        cases.push(...page.map((c) => c.chargeCase));
      }
      const expected = referenceCases(stored);
      expect(cases.map(shape)).toEqual(expected.cases.map(shape));
      expect(own.unlinked.map((r) => r.entry_id)).toEqual(expected.unlinked.map((r) => r.entry_id));
      // Not a vacuous comparison: each seed has duplicates, refunds of older charges and unlinked rows.
      expect(expected.cases.some((c) => c.duplicates.length)).toBe(true);
      expect(expected.cases.some((c) => c.charge.transaction_date < FROM && c.refunds.length)).toBe(true);
      expect(expected.cases.some((c) => c.duplicates.some((d) => d.transaction_date !== c.charge.transaction_date))).toBe(true);
      expect(expected.unlinked.length).toBeGreaterThan(0);
    });
  }
});

const shape = (c: ChargeCase) => ({
  charge: c.charge.entry_id,
  duplicates: c.duplicates.map((r) => r.entry_id),
  refunds: c.refunds.map((r) => r.entry_id),
  voids: c.voids.map((r) => r.entry_id),
});

/** The selection of docs/reference.md §4.1, in memory, then buildCases: the grouping the SQL must equal. */
function referenceCases(all: LedgerEntry[]): { cases: ChargeCase[]; unlinked: LedgerEntry[] } {
  const inRange = (r: LedgerEntry) => r.transaction_date >= FROM && r.transaction_date <= TO;
  const byLine = (a: LedgerEntry, b: LedgerEntry) => a.source_line - b.source_line;
  const sharing = (rows: LedgerEntry[]) => {
    const dates = new Set(rows.map((r) => r.transaction_date));
    const ids = new Set(rows.flatMap(identifiers));
    return (r: LedgerEntry) => dates.has(r.transaction_date) && identifiers(r).some((id) => ids.has(id));
  };
  const booked = all.filter((r) => r.entry_type !== 'charge' && r.entry_date >= FROM && r.entry_date <= TO && !inRange(r)).sort(byLine);
  const olderCharges = all.filter((r) => r.entry_type === 'charge').filter(sharing(booked)).sort(byLine);
  const olderFollowUps = all.filter((r) => r.entry_type !== 'charge').filter(sharing(olderCharges)).sort(byLine);
  const seen = new Set(olderFollowUps.map((r) => r.entry_id));
  const rows = [...all.filter(inRange).sort(byLine), ...olderCharges, ...olderFollowUps, ...booked.filter((r) => !seen.has(r.entry_id))];
  // v3: every other charge row of a selected charge, whatever its date, and its rows; again for those.
  for (let known = rows.filter((r) => r.entry_type === 'charge'); known.length; ) {
    const selected = new Set(rows.map((r) => r.entry_id));
    const ids = new Set(known.flatMap(identifiers));
    const more = all.filter((r) => r.entry_type === 'charge' && !selected.has(r.entry_id) && identifiers(r).some((id) => ids.has(id))).sort(byLine);
    const theirs = all.filter((r) => r.entry_type !== 'charge' && !selected.has(r.entry_id)).filter(sharing(more)).sort(byLine);
    rows.push(...more, ...theirs);
    known = more;
  }
  return buildCases(
    rows.filter((r) => r.entry_type === 'charge'),
    rows.filter((r) => r.entry_type !== 'charge').sort((a, b) => a.entry_date.localeCompare(b.entry_date)),
  );
}

function randomLedger(seed: number, count: number) {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const id = (prefix: string) => (random() < 0.25 ? null : `${prefix}${Math.floor(random() * 90)}`);
  const day = (n: number) => `2026-03-${String(n).padStart(2, '0')}`;
  return Array.from({ length: count }, (_, i) => {
    const date = 1 + Math.floor(random() * 9);
    const type = pick(['charge', 'charge', 'charge', 'refund', 'refund', 'void'] as const);
    const ids = { charge_id: id('C'), reference_order: id('R'), order_id: id('O') };
    if (!ids.charge_id && !ids.reference_order && !ids.order_id) ids.charge_id = `C${i}`;
    return {
      entry_id: `E${i}`,
      entry_type: type,
      ...ids,
      transaction_date: day(date),
      entry_date: type === 'charge' ? day(date) : day(Math.min(9, date + Math.floor(random() * 6))),
      source_type: 'card' as const,
      currency: 'THB',
      amount: '10.00',
      source_file: 'ledger.csv',
      source_line: i + 2,
    };
  });
}
