import { describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { buildCharge, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { nextDate, runScenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();

const key = (date: string, name: string) => `${date}-${name}`;
const rowsOf = (ledger: LedgerRow[], type: string) => ledger.filter((r) => r.entry_type === type);

describe('a run covers the charges with a refund or void booked in its range (docs/reference.md §4.1)', () => {
  it('takes an old charge whose refund is booked in the range, with all its rows; leaves an old charge without one', async () => {
    const day = nextDate();
    const old = shiftDate(day, -100);
    // Refunded twice: once long ago, once on `day`.
    const refunded = buildCharge({ key: key(day, 'old-refunded'), date: old, amount: '500.00', refunds: ['100.00', '50.00'] });
    const [first, second] = rowsOf(refunded.ledger, 'refund');
    first!.entry_date = shiftDate(old, 1);
    second!.entry_date = day;
    const voided = buildCharge({ key: key(day, 'old-voided'), date: shiftDate(old, -3), amount: '70.00', voided: true });
    rowsOf(voided.ledger, 'void')[0]!.entry_date = day;
    const untouched = buildCharge({ key: key(day, 'old-untouched'), date: old, amount: '20.00' });
    const today = buildCharge({ key: key(day, 'today'), date: day, amount: '30.00' });
    const all = [refunded, voided, untouched, today];

    const result = await runScenario(database, { from: day, ledger: all.flatMap((c) => c.ledger), gateway: all.map((c) => c.gateway) });

    // Both refunds of the old charge are matched (one booked outside the range): no finding at all.
    expect(result.codes).toEqual([]);
    expect(result.outcome.run.counts).toMatchObject({ charges: 3, matched: 3 });
    // Each charge counts under its own transaction_date; the voided one out of the gross (v3).
    const summary = result.summary.map((s) => [s.transaction_date, s.charges, s.gross_amount, s.refunded_amount]);
    expect(summary).toEqual([
      [shiftDate(old, -3), '1', '0.00', '0.00'],
      [old, '1', '500.00', '150.00'],
      [day, '1', '30.00', '0.00'],
    ]);
    expect(result.summary[0]!.voided_amount).toBe('70.00');
  });

  it('a refund row that carries the wrong transaction_date still finds its charge row, at any date', async () => {
    const day = nextDate();
    const old = shiftDate(day, -40);
    const charge = buildCharge({ key: key(day, 'wrong-date'), date: old, amount: '500.00', refunds: ['100.00'] });
    const refund = rowsOf(charge.ledger, 'refund')[0]!;
    Object.assign(refund, { transaction_date: day, entry_date: day, reference_order: '' }); // the refund's own date, and only the charge id
    const result = await runScenario(database, { from: day, ledger: charge.ledger, gateway: [charge.gateway] });
    expect(result.codes).toEqual([]);
    expect(result.outcome.run.counts).toMatchObject({ charges: 1, matched: 1 });
    expect(result.summary.map((s) => s.transaction_date)).toEqual([old]);
  });

  it('a refund row that names its charge only by the id the gateway gave it joins that charge', async () => {
    const day = nextDate();
    const charge = buildCharge({ key: key(day, 'gateway-id'), date: day, amount: '500.00', refunds: ['100.00'] });
    const other = buildCharge({ key: key(day, 'gateway-id-other'), date: day, amount: '40.00' });
    // The ledger's charge row knows only its reference order; the refund row only the charge id.
    Object.assign(rowsOf(charge.ledger, 'charge')[0]!, { charge_id: '' });
    Object.assign(rowsOf(charge.ledger, 'refund')[0]!, { reference_order: '' });
    const result = await runScenario(database, { from: day, ledger: [...other.ledger, ...charge.ledger], gateway: [charge.gateway, other.gateway] });
    expect(result.codes).toEqual([]);
    // One case each: the refund row is the refunded charge's, not an orphan's, and no third charge
    // is asked about (the audit trail, one row per charge asked, whatever retries a busy machine needs).
    expect(result.outcome.run.counts).toMatchObject({ charges: 2, matched: 2 });
    const asked = await database.db.selectFrom('gateway_inquiries').select('charge_key').where('run_id', '=', result.outcome.run.run_id).execute();
    expect(asked).toHaveLength(2);
  });

  it('the run of the charge’s own date still covers the refund booked later', async () => {
    const day = nextDate();
    const charge = buildCharge({ key: key(day, 'own-date'), date: day, amount: '500.00', refunds: ['100.00'] });
    rowsOf(charge.ledger, 'refund')[0]!.entry_date = shiftDate(day, 20);
    const result = await runScenario(database, { from: day, asOf: shiftDate(day, 30), ledger: charge.ledger, gateway: [charge.gateway] });
    expect(result.codes).toEqual([]);
    expect(result.outcome.run.counts).toMatchObject({ charges: 1, matched: 1 });
  });
});

describe('ORPHAN_LEDGER_ENTRY: a refund or void row whose charge exists nowhere', () => {
  it('unknown to the gateway too: one error per row, with its entry id, counted as a mismatched charge without gross', async () => {
    const day = nextDate();
    const old = shiftDate(day, -10);
    const lost = buildCharge({ key: key(day, 'lost'), date: old, amount: '500.00', refunds: ['100.00'] });
    const refund = rowsOf(lost.ledger, 'refund')[0]!;
    refund.entry_date = day;
    const lostVoid = buildCharge({ key: key(day, 'lost-void'), date: day, amount: '40.00', sourceType: 'qr', voided: true });
    const voidRow = rowsOf(lostVoid.ledger, 'void')[0]!;
    const clean = buildCharge({ key: key(day, 'clean'), date: day, amount: '30.00' });

    const result = await runScenario(database, { from: day, ledger: [refund, voidRow, ...clean.ledger], gateway: [clean.gateway] });

    expect(result.codes).toEqual(['ORPHAN_LEDGER_ENTRY', 'ORPHAN_LEDGER_ENTRY']);
    const byEntry = Object.fromEntries(result.mismatches.map((m) => [m.entry_id, m]));
    expect(byEntry[refund.entry_id!]).toMatchObject({ severity: 'error', field: 'charge_id', ledger_value: refund.charge_id, transaction_date: old, source_type: 'card' });
    expect(byEntry[voidRow.entry_id!]).toMatchObject({ severity: 'error', field: 'charge_id', ledger_value: voidRow.charge_id, transaction_date: day, source_type: 'qr' });
    expect(result.outcome.exitCode).toBe(1);
    expect(result.outcome.run.counts).toMatchObject({ charges: 3, matched: 1, mismatched: 2 });
    const summary = result.summary.map((s) => [s.transaction_date, s.source_type, s.charges, s.mismatched, s.gross_amount]);
    expect(summary).toEqual([
      [old, 'card', '1', '1', '0.00'],
      [day, 'card', '1', '0', '30.00'],
      [day, 'qr', '1', '1', '0.00'],
    ]);
  });

  it('is reported by the run that covers its entry_date, and by the run of its transaction_date; not by others', async () => {
    const day = nextDate();
    const booked = shiftDate(day, 400); // a year on: no other test of this file books there
    const lost = buildCharge({ key: key(day, 'later'), date: day, amount: '500.00', refunds: ['100.00'] });
    const refund = rowsOf(lost.ledger, 'refund')[0]!;
    refund.entry_date = booked;
    for (const date of [booked, day]) {
      const run = await runScenario(database, { from: date, ledger: [refund], gateway: [] });
      expect(run.codes, date).toEqual(['ORPHAN_LEDGER_ENTRY']);
      expect(run.mismatches[0]!.entry_id).toBe(refund.entry_id);
    }
    const between = await runScenario(database, { from: shiftDate(booked, -10), to: shiftDate(booked, -1), ledger: [refund], gateway: [] });
    expect(between.codes).toEqual([]);
    expect(between.outcome.run.counts.charges).toBe(0);
  });

  it('known to the gateway: the refunds are reconciled against its answer, and they match', async () => {
    const day = nextDate();
    const charge = buildCharge({ key: key(day, 'known'), date: shiftDate(day, -5), amount: '500.00', refunds: ['100.00', '20.00'] });
    for (const refund of rowsOf(charge.ledger, 'refund')) refund.entry_date = day;
    const result = await runScenario(database, { from: day, ledger: rowsOf(charge.ledger, 'refund'), gateway: [charge.gateway] });
    expect(result.codes).toEqual([]);
    expect(result.outcome.run.counts).toMatchObject({ charges: 1, matched: 1 });
    // The ledger books no charge: no gross; what the gateway moved is counted.
    expect(result.summary[0]).toMatchObject({ charges: '1', matched: '1', gross_amount: '0.00', refunded_amount: '120.00' });
  });

  it('known to the gateway: refund codes apply, the charge-level checks do not', async () => {
    const day = nextDate();
    const charge = buildCharge({ key: key(day, 'known-off'), date: day, amount: '500.00', refunds: ['100.00'] });
    const refund = rowsOf(charge.ledger, 'refund')[0]!;
    refund.amount = '90.00'; // matched by refund_id, amount differs
    // The gateway's own figures disagree with each other: a charge-level check would say so.
    (charge.gateway.settlement_info as Record<string, unknown>).orig_net_amount = '1.0000';
    const result = await runScenario(database, { from: day, ledger: [refund], gateway: [charge.gateway] });
    expect(result.codes).toEqual(['REFUND_AMOUNT_MISMATCH']);
    expect(result.mismatches[0]).toMatchObject({ entry_id: refund.entry_id, ledger_value: '90.00', gateway_value: '100.00' });
  });

  it('known to the gateway: a void row of a charge the gateway has Settled is a STATE_MISMATCH', async () => {
    const day = nextDate();
    const charge = buildCharge({ key: key(day, 'void-settled'), date: day, amount: '500.00' });
    const voided = buildCharge({ key: key(day, 'void-settled'), date: day, amount: '500.00', voided: true });
    const result = await runScenario(database, { from: day, ledger: rowsOf(voided.ledger, 'void'), gateway: [charge.gateway] });
    expect(result.codes).toEqual(['STATE_MISMATCH']);
    expect(result.mismatches[0]).toMatchObject({ ledger_value: 'Voided', gateway_value: 'Settled' });
  });
});

describe('every ingested row is accounted for', () => {
  it('after a run, each ledger row is in a charge the run reconciled, an ORPHAN_LEDGER_ENTRY, or outside the run’s dates', async () => {
    const from = nextDate();
    const to = shiftDate(from, 2);
    const before = shiftDate(from, -30);
    const after = shiftDate(to, 30);
    const clean = buildCharge({ key: key(from, 'acc-clean'), date: from, amount: '10.00' });
    const refundedLater = buildCharge({ key: key(from, 'acc-later'), date: before, amount: '20.00', refunds: ['5.00'] });
    rowsOf(refundedLater.ledger, 'refund')[0]!.entry_date = to;
    const refundedAfter = buildCharge({ key: key(from, 'acc-after'), date: to, amount: '30.00', refunds: ['6.00'] });
    rowsOf(refundedAfter.ledger, 'refund')[0]!.entry_date = after;
    const orphanRefund = rowsOf(buildCharge({ key: key(from, 'acc-orphan'), date: before, amount: '40.00', refunds: ['7.00'] }).ledger, 'refund')[0]!;
    orphanRefund.entry_date = from;
    const orphanLater = rowsOf(buildCharge({ key: key(from, 'acc-orphan-later'), date: from, amount: '50.00', voided: true }).ledger, 'void')[0]!;
    orphanLater.entry_date = after;
    const outside = buildCharge({ key: key(from, 'acc-outside'), date: after, amount: '60.00' });
    const charges = [clean, refundedLater, refundedAfter, outside];
    const ledger = [...charges.flatMap((c) => c.ledger), orphanRefund, orphanLater];

    const result = await runScenario(database, { from, to, asOf: shiftDate(after, 10), ledger, gateway: charges.map((c) => c.gateway) });

    const runId = result.outcome.run.run_id;
    const reconciled = new Set(
      (await database.db.selectFrom('recon_charge_results').select('charge_id').where('run_id', '=', runId).execute()).map((r) => r.charge_id),
    );
    const orphans = new Set(result.mismatches.filter((m) => m.code === 'ORPHAN_LEDGER_ENTRY').map((m) => m.entry_id));
    const inDates = (date: string) => date >= from && date <= to;
    const rows = await database.db.selectFrom('ledger_entries').select(['entry_id', 'charge_id', 'transaction_date', 'entry_date']).where('entry_id', 'in', ledger.map((r) => r.entry_id!)).execute();
    expect(rows).toHaveLength(ledger.length);
    const account = Object.fromEntries(
      rows.map((r) => [
        r.entry_id,
        reconciled.has(r.charge_id) && !orphans.has(r.entry_id) ? 'reconciled' : orphans.has(r.entry_id) ? 'orphan' : !inDates(r.transaction_date) && !inDates(r.entry_date) ? 'outside' : 'LOST',
      ]),
    );
    expect(account).toEqual({
      [clean.ledger[0]!.entry_id!]: 'reconciled',
      [refundedLater.ledger[0]!.entry_id!]: 'reconciled', // dated before the run, refunded within it
      [refundedLater.ledger[1]!.entry_id!]: 'reconciled',
      [refundedAfter.ledger[0]!.entry_id!]: 'reconciled',
      [refundedAfter.ledger[1]!.entry_id!]: 'reconciled', // booked after the run, of a charge of the run
      [orphanRefund.entry_id!]: 'orphan',
      [orphanLater.entry_id!]: 'orphan', // dated in the run, booked after it
      [outside.ledger[0]!.entry_id!]: 'outside',
    });
  });
});
