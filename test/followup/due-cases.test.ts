import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { addDueCases } from '../../src/followup/due-charges.ts';
import type { LedgerEntry } from '../../src/ingest/ledger.table.ts';
import { clearRunWork, readCases } from '../../src/run/ingest-cases.ts';
import { buildCases, buildOrphanCases, chargeKey, identifiers, type ChargeCase } from '../../src/reconcile/charge-case.ts';
import { seededRandom } from '../../src/simulator/prng.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * Differential: a night's due cases, staged in `run_case_rows` a few charges at a time and read
 * back a page at a time, are exactly the cases of the in-memory grouping over all the due
 * charges at once (what the nightly held before), in the same order, orphans and reasons
 * included. Ledgers are random: charges with duplicate rows, refunds and voids naming them by any
 * of their ids, orphans (follow-up rows of a charge no charge row books), rows already in one of
 * the run's own cases, and due keys whose rows are gone.
 */

const { db } = await createTestDatabase();
const NIGHT = '2026-04-20';
const OPEN_MAX_DAYS = 10;
const OWN_CASES = 3;
/** Small, so a night is many chunks: each chunk's rows must be left out of the next. */
const CHUNK = 7;

describe('a night’s due cases, staged a chunk at a time', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`are the grouping of all of them at once (seed ${seed})`, async () => {
      const { ledger, states } = randomNight(seed, 120);
      await sql`TRUNCATE ledger_entries, charge_state`.execute(db);
      await clearRunWork(db);
      await db.insertInto('ledger_entries').values(ledger).execute();
      await db.insertInto('charge_state').values(states).execute();
      // The run's own cases: their rows and keys are not the night's to take.
      const own = ledger.filter((r) => r.entry_type === 'charge').slice(0, OWN_CASES);
      for (const [i, row] of own.entries()) {
        await sql`INSERT INTO run_case_rows (case_no, pos, entry_id, charge_key) VALUES (${i + 1}, 0, ${row.entry_id}, ${chargeKey(row as LedgerEntry)})`.execute(db);
      }
      const stored = await db.selectFrom('ledger_entries').selectAll().execute();
      const expected = referenceDue(stored, states, own.map((r) => r.entry_id));

      const staged = await addDueCases(db, { night: NIGHT, openMaxDays: OPEN_MAX_DAYS }, OWN_CASES + 1, CHUNK);
      const cases: { no: number; chargeCase: ChargeCase }[] = [];
      for await (const page of readCases(db, OWN_CASES + 1, OWN_CASES + staged.count)) cases.push(...page);

      expect(cases.map((c) => c.no)).toEqual(cases.map((_, i) => OWN_CASES + 1 + i));
      expect(cases.map((c) => shape(c.chargeCase))).toEqual(expected.map((d) => shape(d.chargeCase)));
      expect(staged).toEqual({
        count: expected.length,
        revisit: expected.filter((d) => d.reason === 'revisit').length,
        recheck: expected.filter((d) => d.reason === 'recheck').length,
      });
      // Not vacuous: many chunks, and every kind of case in them.
      expect(expected.length).toBeGreaterThan(4 * CHUNK);
      expect(expected.some((d) => d.chargeCase.orphan)).toBe(true);
      expect(expected.some((d) => d.chargeCase.duplicates.length)).toBe(true);
      expect(expected.some((d) => d.chargeCase.refunds.length > 1)).toBe(true);
      expect(expected.some((d) => d.chargeCase.voids.length)).toBe(true);
      expect(staged.revisit * staged.recheck).toBeGreaterThan(0);
      // v3: open charges dated before the open window, followed because they were opened lately.
      expect(expected.some((d) => d.reason === 'revisit' && d.chargeCase.charge.transaction_date < shiftDate(NIGHT, -OPEN_MAX_DAYS))).toBe(true);
    });
  }
});

const shape = (c: ChargeCase) => ({
  charge: c.charge.entry_id,
  orphan: c.orphan,
  duplicates: c.duplicates.map((r) => r.entry_id),
  refunds: c.refunds.map((r) => r.entry_id),
  voids: c.voids.map((r) => r.entry_id),
});

/**
 * The due charges of docs/reference.md §1.3, grouped all at once in memory: open ones open (since `open_since`,
 * v3) for no longer than the open window, then final ones, each oldest first, less the keys the
 * run has; each key's case from
 * every ledger row naming it that no own case holds.
 */
function referenceDue(all: LedgerEntry[], states: readonly State[], ownRows: readonly string[]): { chargeCase: ChargeCase; reason: 'revisit' | 'recheck' }[] {
  const ownKeys = new Set(all.filter((r) => ownRows.includes(r.entry_id)).map(chargeKey));
  const oldest = shiftDate(NIGHT, -OPEN_MAX_DAYS);
  const wanted = states
    .filter((s) => s.next_ask_on <= NIGHT && (!s.open || (s.open_since ?? s.first_seen_on) >= oldest) && !ownKeys.has(s.charge_key))
    .sort((a, b) => Number(b.open) - Number(a.open) || a.transaction_date.localeCompare(b.transaction_date) || (a.charge_key < b.charge_key ? -1 : a.charge_key > b.charge_key ? 1 : 0));
  const keys = new Set(wanted.map((s) => s.charge_key));
  const rows = all
    .filter((r) => !ownRows.includes(r.entry_id) && identifiers(r).some((id) => keys.has(id)))
    .sort((a, b) => a.source_line - b.source_line);
  const { cases, unlinked } = buildCases(
    rows.filter((r) => r.entry_type === 'charge'),
    rows.filter((r) => r.entry_type !== 'charge').sort((a, b) => a.entry_date.localeCompare(b.entry_date)),
  );
  const byKey = new Map<string, ChargeCase>();
  for (const c of [...cases, ...buildOrphanCases(unlinked)]) {
    const key = [chargeKey(c.charge), ...identifiers(c.charge)].find((id) => keys.has(id));
    if (key && !byKey.has(key)) byKey.set(key, c);
  }
  return wanted.flatMap((s) => {
    const chargeCase = byKey.get(s.charge_key);
    return chargeCase ? [{ chargeCase, reason: s.open ? ('revisit' as const) : ('recheck' as const) }] : [];
  });
}

interface State {
  charge_key: string;
  entry_id: string;
  transaction_date: string;
  source_type: string;
  currency: string;
  amount: string;
  open: boolean;
  open_reason: 'SETTLEMENT_PENDING' | null;
  open_since: string | null;
  first_seen_on: string;
  next_ask_on: string;
}

/**
 * `charges` charges over the weeks before the night, each with its own ids (a QR one has no
 * charge id), booked by a charge row (sometimes twice, sometimes not at all: an orphan), with
 * refunds and voids naming it by any of its ids; and a state for most of them (and for keys the
 * ledger no longer has), open or final, due tonight or not.
 */
function randomNight(seed: number, charges: number) {
  const random = seededRandom(seed);
  const chance = (p: number) => random() < p;
  const ledger: Omit<LedgerEntry, 'ingested_at' | 'merchant'>[] = [];
  const states: State[] = [];
  const row = (type: 'charge' | 'refund' | 'void', ids: Pick<LedgerEntry, 'charge_id' | 'reference_order' | 'order_id'>, date: string, booked: string) => {
    const n = ledger.length;
    const entry = {
      entry_id: `E${String(n).padStart(4, '0')}`,
      entry_type: type,
      ...ids,
      transaction_date: date,
      entry_date: booked,
      source_type: 'card',
      currency: 'THB',
      amount: '10.00',
      source_file: 'ledger.csv',
      source_line: n + 2,
    } as Omit<LedgerEntry, 'ingested_at' | 'merchant'>;
    ledger.push(entry);
    return entry;
  };
  const pending: (() => void)[] = [];
  for (let i = 0; i < charges; i++) {
    const date = shiftDate(NIGHT, -1 - Math.floor(random() * 30));
    const qr = chance(0.3);
    const ids = { charge_id: qr ? null : `chrg_${i}`, reference_order: chance(0.8) ? `ORD-${i}` : null, order_id: qr ? `ordr_${i}` : null };
    if (!ids.charge_id && !ids.reference_order && !ids.order_id) ids.reference_order = `ORD-${i}`;
    const named = identifiers(ids as LedgerEntry);
    const first = chance(0.85) ? row('charge', ids, date, date) : undefined;
    // Rows of a charge come later in the ledger, interleaved with other charges' rows.
    pending.push(() => {
      if (first && chance(0.15)) row('charge', ids, date, date);
      for (let r = Math.floor(random() * 3); r > 0; r--) {
        const byOne = named[Math.floor(random() * named.length)]!;
        const only = { charge_id: byOne === ids.charge_id ? byOne : null, reference_order: byOne === ids.reference_order ? byOne : null, order_id: byOne === ids.order_id ? byOne : null };
        row(chance(0.8) ? 'refund' : 'void', only, date, shiftDate(date, Math.floor(random() * 5)));
      }
    });
    if (chance(0.85)) {
      const open = chance(0.5);
      states.push({
        charge_key: first ? chargeKey(first as LedgerEntry) : named[0]!,
        entry_id: first?.entry_id ?? 'E-unknown',
        transaction_date: date,
        source_type: 'card',
        currency: 'THB',
        amount: '10.00',
        open,
        open_reason: open ? 'SETTLEMENT_PENDING' : null,
        // Open since any night from its date to tonight: an old charge re-opened lately is followed.
        open_since: open ? shiftDate(date, Math.floor(random() * (Date.parse(NIGHT) - Date.parse(date) + 86_400_000) / 86_400_000)) : null,
        first_seen_on: date,
        next_ask_on: chance(0.8) ? NIGHT : shiftDate(NIGHT, 3),
      });
    }
    if (i % 5 === 4) pending.splice(0).forEach((add) => add());
  }
  pending.forEach((add) => add());
  // Keys the ledger no longer has: due, but no case.
  for (let i = 0; i < 5; i++) states.push({ ...states[i]!, charge_key: `gone_${i}` });
  return { ledger, states };
}
