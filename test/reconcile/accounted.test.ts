import { describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import type { LedgerEntry } from '../../src/ingest/ledger.table.ts';
import { buildCharge, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { generateSample, samplePlanReport } from '../../src/sample/generate-sample.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario } from '../helpers/scenario.ts';

/**
 * docs/reference.md §4.1: no ingested row is ever left out of every report. After a run, each ledger row
 * is exactly one of: in a charge the run reconciled, an ORPHAN_LEDGER_ENTRY, or outside the run's
 * dates; and each row of the file is either ingested or rejected.
 */

const database = await createTestDatabase();
const FROM = '2026-07-10';
const TO = '2026-07-12';

describe('every ledger row is accounted for after a run', () => {
  it('reconciled, orphan or outside the dates: each ingested row exactly one; every file row ingested or rejected', async () => {
    // Many defects, orphan refunds among them (the sample removes their charge row).
    const inRange = generateSample({ from: FROM, days: 3, chargesPerDay: 60, seed: 42, defectRate: 0.4, asOf: shiftDate(TO, 1) });
    const sampleOrphanCharges = [...inRange.expected].filter(([, codes]) => codes.includes('ORPHAN_LEDGER_ENTRY')).map(([entryId]) => entryId);
    const sampleOrphanRows = inRange.ledger.filter((r) => sampleOrphanCharges.some((id) => r.entry_id!.startsWith(`${id}-R`))).map((r) => r.entry_id!);
    expect(sampleOrphanRows.length).toBeGreaterThan(0);
    const before = generateSample({ from: shiftDate(FROM, -6), days: 2, chargesPerDay: 20, seed: 44 });
    const after = generateSample({ from: shiftDate(TO, 2), days: 1, chargesPerDay: 20, seed: 43 });
    // Refunds booked in the range for charges made before it: the run covers those charges too.
    const lateRefunds = [1, 2, 3].map((n) =>
      buildCharge({ key: `late-${n}`, date: shiftDate(FROM, -10 - n), amount: '500.00', refunds: [{ amount: '120.00', entryDate: shiftDate(FROM, n - 1) }] }),
    );
    // A refund booked before the range for a charge made before it: outside.
    const oldRefund = buildCharge({ key: 'old-1', date: shiftDate(FROM, -9), amount: '300.00', refunds: [{ amount: '300.00', entryDate: shiftDate(FROM, -2) }] });
    const orphan = (n: number, type: 'refund' | 'void', transactionDate: string, entryDate: string): LedgerRow => ({
      entry_id: `ORPHAN-${n}`, entry_type: type, charge_id: `chrg_test_nowhere_${n}`, reference_order: `ORD-NOWHERE-${n}`,
      transaction_date: transactionDate, entry_date: entryDate, source_type: 'card', currency: 'THB', amount: '75.00',
    });
    const orphans = [
      orphan(1, 'refund', shiftDate(FROM, -30), FROM), // its charge is older than the ledger
      orphan(2, 'refund', FROM, TO),
      orphan(3, 'void', shiftDate(FROM, 1), shiftDate(FROM, 1)),
      orphan(5, 'refund', TO, shiftDate(TO, 1)), // of a charge of the run's dates, booked the day after
    ];
    const orphanOutside = orphan(4, 'refund', shiftDate(FROM, -30), shiftDate(FROM, -1));
    const rejected: LedgerRow[] = [
      { entry_id: 'BAD-1', entry_type: 'charge', reference_order: 'ORD-BAD-1', transaction_date: FROM, source_type: 'card', currency: 'THB', amount: '12,34.5' },
      { entry_id: 'BAD-2', entry_type: 'charge', reference_order: 'ORD-BAD-2', transaction_date: '31/02/2026', source_type: 'card', currency: 'THB', amount: '100.00' },
      { entry_id: 'BAD-3', entry_type: 'refund', reference_order: 'ORD-BAD-3', transaction_date: TO, source_type: 'bitcoin', currency: 'THB', amount: '5.00' },
      { entry_id: 'BAD-4', entry_type: 'refund', transaction_date: TO, source_type: 'qr', currency: 'THB', amount: '5.00' },
    ];
    const extra = [...lateRefunds, oldRefund];
    const ledger = [...before.ledger, ...inRange.ledger, ...after.ledger, ...extra.flatMap((c) => c.ledger), ...orphans, orphanOutside, ...rejected];
    const plans = samplePlanReport();

    const result = await runScenario(database, {
      from: FROM,
      to: TO,
      asOf: shiftDate(TO, 1),
      ledger,
      gateway: [...before.gateway, ...inRange.gateway, ...after.gateway, ...extra.map((c) => c.gateway)],
      fees: inRange.fees,
      plans: { [plans.fileName]: plans.csv },
    });

    // Every row of the file is ingested or rejected, never both.
    const entries = await database.db.selectFrom('ledger_entries').selectAll().execute();
    const ingested = new Set(entries.map((e) => e.entry_id));
    expect(result.rejected.map((r) => r.entry_id).sort()).toEqual(['BAD-1', 'BAD-2', 'BAD-3', 'BAD-4']);
    expect(result.rejected.some((r) => ingested.has(r.entry_id!))).toBe(false);
    expect(entries.length + result.rejected.length).toBe(ledger.length);

    // The run's own account of its rows.
    const { run_id: runId } = result.outcome.run;
    const orphanRows = new Set(result.mismatches.filter((m) => m.code === 'ORPHAN_LEDGER_ENTRY').map((m) => m.entry_id!));
    // An orphan is reported with a result row of its own (so it is listed); it is no charge.
    const chargeResults = await database.db.selectFrom('recon_charge_results').select(['entry_id', 'charge_id', 'reference_order']).where('run_id', '=', runId).execute();
    const reconciledCharges = chargeResults.filter((c) => !orphanRows.has(c.entry_id!));
    const reconciledIds = new Set(reconciledCharges.flatMap((c) => [c.charge_id, c.reference_order]).filter((id): id is string => !!id));
    const ids = (e: LedgerEntry) => [e.charge_id, e.reference_order, e.order_id].filter((id): id is string => !!id);
    const reconciled = new Set(entries.filter((e) => ids(e).some((id) => reconciledIds.has(id))).map((e) => e.entry_id));

    // Outside the run's dates, judged from the ledger alone: no row of its charge is dated in
    // the range, and none is a refund or void booked in it (docs/reference.md §4.1; a refund or void row
    // carries its charge's transaction_date, so an orphan is reported by the runs of both dates).
    const inDates = (date: string) => FROM <= date && date <= TO;
    const byId = new Map<string, LedgerEntry[]>();
    for (const e of entries) for (const id of ids(e)) byId.set(id, [...(byId.get(id) ?? []), e]);
    const related = (e: LedgerEntry) => new Set(ids(e).flatMap((id) => byId.get(id)!));
    const covers = (e: LedgerEntry) => inDates(e.transaction_date) || (e.entry_type !== 'charge' && inDates(e.entry_date));
    const outside = new Set(entries.filter((e) => ![...related(e)].some(covers)).map((e) => e.entry_id));

    const groupsOf = (entryId: string) => [reconciled.has(entryId) && 'reconciled', orphanRows.has(entryId) && 'orphan', outside.has(entryId) && 'outside'].filter(Boolean);
    expect(entries.filter((e) => groupsOf(e.entry_id).length !== 1).map((e) => `${e.entry_id}: ${groupsOf(e.entry_id).join(' + ') || 'in no group'}`)).toEqual([]);
    expect(reconciled.size + orphanRows.size + outside.size).toBe(entries.length);

    // And the groups are the ones this ledger was built to have.
    expect([...orphanRows].sort()).toEqual(['ORPHAN-1', 'ORPHAN-2', 'ORPHAN-3', 'ORPHAN-5', ...sampleOrphanRows].sort());
    expect(outside.has('ORPHAN-4') && outside.has('E-old-1') && outside.has('E-old-1-R1')).toBe(true);
    for (const c of lateRefunds) for (const row of c.ledger) expect(reconciled.has(row.entry_id!), row.entry_id).toBe(true);
    for (const row of [...before.ledger, ...after.ledger]) expect(outside.has(row.entry_id!), row.entry_id).toBe(true);
    for (const row of inRange.ledger) if (!sampleOrphanRows.includes(row.entry_id!)) expect(reconciled.has(row.entry_id!), row.entry_id).toBe(true);
    expect(reconciledCharges).toHaveLength(inRange.expected.size - sampleOrphanCharges.length + lateRefunds.length);
    expect(chargeResults.length - reconciledCharges.length).toBe(orphans.length + sampleOrphanCharges.length);
    expect(result.outcome.run.counts.rejected).toBe(4);
  });
});
