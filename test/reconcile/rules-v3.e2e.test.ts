import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it, onTestFinished } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { openBooks } from '../helpers/books.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { cardAnswer, cardRow, ledgerText, refundEntry, settlement, type Answer } from '../helpers/hand-books.ts';

/**
 * The v3 reconciliation rules (partial capture, failed refunds, pro-rata refund fees, duplicates
 * across dates), each on a few charges whose figures are worked out by hand below, through the
 * CLI against the simulator and this file's own PostgreSQL.
 */
const database = await createTestDatabase();

/** 2.5 % on cards, VAT 7 %, refunds giving back their share of the charge's MDR. */
const FEES = { vat_rate: '0.07', refund_fee_reversal: 'pro_rata', rules: [{ source_type: 'card', rate: '0.025' }] };

type Row = Record<string, string>;
interface Outcome {
  code: number | null;
  findings: Row[];
  rejected: Row[];
  run: { run_id: string; counts: Record<string, number> };
}

/**
 * One test's books: KBank (the simulator) answering with `gateway`, and the ledger files added so
 * far, as a merchant's export folder grows; closed when the test ends.
 */
async function books(gateway: Answer[]) {
  const opened = await openBooks(database, gateway);
  onTestFinished(() => opened.close());
  const ledgers: string[] = [];
  let outs = 0;
  /** `kpgw-recon <args>` over the ledger files with the fee schedule `fees` (a rerun reads neither). */
  const cli = async (args: string[], fees: object = FEES): Promise<Outcome> => {
    const out = join(opened.dir, `out-${++outs}`);
    const schedule = await opened.write('fees.json', JSON.stringify(fees));
    const inputs = args[0] === 'rerun' ? [] : [...ledgers.flatMap((file) => ['--ledger', file]), '--fees', schedule];
    const result = await opened.cli([...args, ...inputs, '--out', out]);
    const csv = async (name: string) => parse(await readFile(join(out, name), 'utf8'), { columns: true, bom: true }) as Row[];
    return { code: result.code, findings: await csv('mismatches.csv'), rejected: await csv('rejected.csv'), run: JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) };
  };
  return {
    dir: opened.dir,
    add: async (name: string, rows: Row[]) => void ledgers.push(await opened.write(name, ledgerText(rows))),
    cli,
    /** `run` of one day, as of the next. */
    runDay: (date: string, fees?: object) => cli(['run', '--from', date, '--as-of', shiftDate(date, 1)], fees),
    export: (args: string[]) => opened.cli(['export', ...args]),
  };
}

const findingsOf = (outcome: Outcome, chargeId: string) =>
  outcome.findings.filter((f) => f.charge_id === chargeId).map((f) => [f.code, f.entry_id, f.field, f.ledger_value, f.gateway_value]);

/** Each test reconciles its own dates: the database is the file's, and a run covers every row of its dates. */
describe('partial capture (captured_amount)', () => {
  // KBank authorised 1,000.00 and the merchant settled 600.00 (Settle Transaction, type partial):
  // its answer keeps amount 1000.00 and settles 600.00, with the fees on 600.00:
  //   MDR 600.00 × 2.5 % = 15.00; VAT 15.00 × 7 % = 1.05; net 600.00 − 15.00 − 1.05 = 583.95.
  const captured = (id: string, D: string, over: Answer = {}) =>
    cardAnswer(id, D, { amount: '1000.00', transaction_state: 'Settled', settlement_info: settlement('600.00', '15.00', '1.05', '583.95'), ...over });

  it('booked with captured_amount: no finding, also when the captured 600.00 is refunded in full', async () => {
    const D = '2026-02-02';
    // The refund gives back the whole MDR: 15.00 × 600.00 ÷ 600.00 = 15.00; VAT 1.05; net 583.95.
    const refunded = captured('chrg_pc_2', D, { transaction_state: 'Refunded', refund_info: [refundEntry('refd_pc_2', D, '600.00', { mdr: '15.00', vat: '1.05', net: '583.95' })] });
    const { add, runDay } = await books([captured('chrg_pc_1', D), refunded]);
    await add('ledger.csv', [
      cardRow('chrg_pc_1', D, { entry_id: 'PC-1', entry_type: 'charge', amount: '1000.00', captured_amount: '600.00' }),
      cardRow('chrg_pc_2', D, { entry_id: 'PC-2', entry_type: 'charge', amount: '1000.00', captured_amount: '600.00' }),
      // A full refund of a partially captured charge is its captured amount.
      cardRow('chrg_pc_2', D, { entry_id: 'PC-2-R', entry_type: 'refund', amount: '600.00', refund_id: 'refd_pc_2' }),
    ]);
    const outcome = await runDay(D);
    expect(outcome.findings).toEqual([]);
    expect(outcome.code).toBe(0);
    expect(outcome.run.counts).toMatchObject({ charges: 2, matched: 2 });
  });

  it('without it the same answer is four errors; amount is still compared with the gateway’s amount', async () => {
    const D = '2026-02-03';
    const { add, runDay } = await books([captured('chrg_pc_3', D), captured('chrg_pc_4', D)]);
    await add('ledger.csv', [
      // The books do not say that only 600.00 was captured.
      cardRow('chrg_pc_3', D, { entry_id: 'PC-3', entry_type: 'charge', amount: '1000.00' }),
      // The captured amount is booked, the authorised amount wrongly: 990.00 against KBank's 1000.00.
      cardRow('chrg_pc_4', D, { entry_id: 'PC-4', entry_type: 'charge', amount: '990.00', captured_amount: '600.00' }),
    ]);
    const outcome = await runDay(D);
    // On 1000.00: MDR 25.00, VAT 25.00 × 7 % = 1.75, net 1000.00 − 25.00 − 1.75 = 973.25.
    expect(findingsOf(outcome, 'chrg_pc_3')).toEqual([
      ['SETTLE_AMOUNT_MISMATCH', 'PC-3', 'settle_amount', '1000.00', '600.00'],
      ['MDR_MISMATCH', 'PC-3', 'orig_mdr', '25.00', '15.00'],
      ['VAT_MISMATCH', 'PC-3', 'orig_vat', '1.75', '1.05'],
      ['NET_MISMATCH', 'PC-3', 'orig_net_amount', '973.25', '583.95'],
    ]);
    expect(findingsOf(outcome, 'chrg_pc_4')).toEqual([['AMOUNT_MISMATCH', 'PC-4', 'amount', '990.00', '1000.00']]);
    expect(outcome.code).toBe(1);
  });

  it('a captured_amount that cannot be is rejected with its reason, the rest of the file read', async () => {
    const D = '2026-02-04';
    const { add, runDay } = await books([captured('chrg_pc_7', D)]);
    await add('ledger.csv', [
      cardRow('chrg_pc_5', D, { entry_id: 'PC-5', entry_type: 'charge', amount: '1000.00', captured_amount: '0.00' }),
      cardRow('chrg_pc_6', D, { entry_id: 'PC-6', entry_type: 'charge', amount: '1000.00', captured_amount: '1,000.01' }),
      cardRow('chrg_pc_7', D, { entry_id: 'PC-7', entry_type: 'charge', amount: '1000.00', captured_amount: '600.00' }),
      cardRow('chrg_pc_7', D, { entry_id: 'PC-7-R', entry_type: 'refund', amount: '100.00', captured_amount: '100.00' }),
      cardRow('chrg_pc_8', D, { entry_id: 'PC-8', entry_type: 'charge', amount: '1000.00', captured_amount: 'all' }),
    ]);
    const outcome = await runDay(D);
    expect(outcome.rejected.map((r) => [r.line, r.entry_id, r.reason])).toEqual([
      ['2', 'PC-5', "captured_amount '0.00' is not a positive amount"],
      ['3', 'PC-6', 'captured_amount 1000.01 is more than amount 1000.00'],
      ['5', 'PC-7-R', 'captured_amount is only for charge rows (a refund row books its own amount)'],
      ['6', 'PC-8', "captured_amount 'all' is not a number"],
    ]);
    expect(outcome.findings).toEqual([]);
    expect(outcome.run.counts).toMatchObject({ rejected: 4, charges: 1, matched: 1 });
    expect(outcome.code).toBe(1);
    const stored = await database.db.selectFrom('ledger_entries').select(['entry_id', 'captured_amount']).where('entry_id', 'in', ['PC-5', 'PC-6', 'PC-7', 'PC-7-R', 'PC-8']).execute();
    expect(stored).toEqual([{ entry_id: 'PC-7', captured_amount: '600.00' }]);
  });
});

describe('failed refunds', () => {
  const D = '2026-02-05';
  // A charge of 500.00: MDR 500.00 × 2.5 % = 12.50; VAT 12.50 × 7 % = 0.875 → 0.88; net 486.62.
  const charge = (id: string, over: Answer) => cardAnswer(id, D, { amount: '500.00', settlement_info: settlement('500.00', '12.50', '0.88', '486.62'), ...over });
  // What a refund that failed reports: no fee given back.
  const failed = (refundId: string, amount: string) => refundEntry(refundId, D, amount, { mdr: '0.00', vat: '0.00', net: amount }, 'OBAVL');

  it('is REFUND_FAILED and nothing else: out of the expected state, its fees not compared', async () => {
    const { add, runDay } = await books([
      // The refund moved no money: KBank rightly still says Settled.
      charge('chrg_fr_1', { transaction_state: 'Settled', refund_info: [failed('refd_fr_1', '100.00')] }),
      // 50.00 went through (12.50 × 50 ÷ 500 = 1.25; VAT 0.0875 → 0.09; net 48.66), 100.00 failed: Partial Refund.
      charge('chrg_fr_2', {
        transaction_state: 'Partial Refund',
        refund_info: [refundEntry('refd_fr_2a', D, '50.00', { mdr: '1.25', vat: '0.09', net: '48.66' }), failed('refd_fr_2b', '100.00')],
      }),
      // KBank's state says it too.
      charge('chrg_fr_3', { transaction_state: 'Refund Fail', refund_info: [failed('refd_fr_3', '100.00')] }),
    ]);
    await add('ledger.csv', [
      cardRow('chrg_fr_1', D, { entry_id: 'FR-1', entry_type: 'charge', amount: '500.00' }),
      // The clerk booked the refund's fees as a refund would give them back: 12.50 × 100 ÷ 500 = 2.50, VAT 0.18, net 97.32.
      cardRow('chrg_fr_1', D, { entry_id: 'FR-1-R', entry_type: 'refund', amount: '100.00', refund_id: 'refd_fr_1', mdr: '2.50', vat: '0.18', net_amount: '97.32' }),
      cardRow('chrg_fr_2', D, { entry_id: 'FR-2', entry_type: 'charge', amount: '500.00' }),
      cardRow('chrg_fr_2', D, { entry_id: 'FR-2-R1', entry_type: 'refund', amount: '50.00', refund_id: 'refd_fr_2a' }),
      cardRow('chrg_fr_2', D, { entry_id: 'FR-2-R2', entry_type: 'refund', amount: '100.00', refund_id: 'refd_fr_2b' }),
      cardRow('chrg_fr_3', D, { entry_id: 'FR-3', entry_type: 'charge', amount: '500.00' }),
      cardRow('chrg_fr_3', D, { entry_id: 'FR-3-R', entry_type: 'refund', amount: '100.00', refund_id: 'refd_fr_3' }),
    ]);
    const outcome = await runDay(D);
    expect(outcome.findings.map((f) => [f.charge_id, f.code, f.entry_id, f.field, f.gateway_value])).toEqual([
      ['chrg_fr_1', 'REFUND_FAILED', 'FR-1-R', 'refund_info[refd_fr_1].error_code', 'OBAVL'],
      ['chrg_fr_2', 'REFUND_FAILED', 'FR-2-R2', 'refund_info[refd_fr_2b].error_code', 'OBAVL'],
      ['chrg_fr_3', 'REFUND_FAILED', 'FR-3-R', 'refund_info[refd_fr_3].error_code', 'OBAVL'],
    ]);
    expect(outcome.code).toBe(1);
  });
});

describe('pro-rata refund fees: a share of the charge’s MDR', () => {
  /** 2.8 % with a minimum of 5.60, as KBank charges small card payments. */
  const MINIMUM = { vat_rate: '0.07', refund_fee_reversal: 'pro_rata', rules: [{ source_type: 'card', rate: '0.028', min: '5.60' }] };
  // A charge of 100.00: 100.00 × 2.8 % = 2.80, raised to the minimum 5.60; VAT 5.60 × 7 % = 0.392
  // → 0.39; net 100.00 − 5.60 − 0.39 = 94.01. A refund of 50.00 gives back 5.60 × 50 ÷ 100 = 2.80,
  // VAT 2.80 × 7 % = 0.196 → 0.20, net 50.00 − 2.80 − 0.20 = 47.00 (at the rate alone it would
  // be 1.40 / 0.10 / 48.50).
  const D = '2026-02-06';
  const hundred = (id: string, figures: Answer, refund: Answer) =>
    cardAnswer(id, D, { amount: '100.00', transaction_state: 'Partial Refund', settlement_info: figures, refund_info: [refund] });
  const rows = (id: string, refund: string) => [
    cardRow(id, D, { entry_id: id.replace('chrg_', ''), entry_type: 'charge', amount: '100.00' }),
    cardRow(id, D, { entry_id: `${id.replace('chrg_', '')}-R`, entry_type: 'refund', amount: refund, refund_id: id.replace('chrg_', 'refd_') }),
  ];

  it('KBank giving back the minimum in proportion is no finding; the rate’s share alone is three', async () => {
    const reported = settlement('100.00', '5.60', '0.39', '94.01');
    const { add, runDay } = await books([
      hundred('chrg_pr_1', reported, refundEntry('refd_pr_1', D, '50.00', { mdr: '2.80', vat: '0.20', net: '47.00' })),
      hundred('chrg_pr_2', reported, refundEntry('refd_pr_2', D, '50.00', { mdr: '1.40', vat: '0.10', net: '48.50' })),
      // The charge's figures are not reported yet, the refund's are: the charge's expected MDR
      // (5.60) is shared: 5.60 × 25 ÷ 100 = 1.40; VAT 0.098 → 0.10; net 25.00 − 1.40 − 0.10 = 23.50.
      hundred('chrg_pr_3', { ...settlement('100.00', '0.00', '0.00', '0.00'), orig_amount: '0.00' }, refundEntry('refd_pr_3', D, '25.00', { mdr: '1.40', vat: '0.10', net: '23.50' })),
    ]);
    await add('ledger.csv', [...rows('chrg_pr_1', '50.00'), ...rows('chrg_pr_2', '50.00'), ...rows('chrg_pr_3', '25.00')]);
    const outcome = await runDay(D, MINIMUM);
    expect(findingsOf(outcome, 'chrg_pr_1')).toEqual([]);
    expect(findingsOf(outcome, 'chrg_pr_2')).toEqual([
      ['REFUND_MDR_MISMATCH', 'pr_2-R', 'refund_info[refd_pr_2].orig_mdr', '2.80', '1.40'],
      ['REFUND_VAT_MISMATCH', 'pr_2-R', 'refund_info[refd_pr_2].orig_vat', '0.20', '0.10'],
      ['REFUND_NET_MISMATCH', 'pr_2-R', 'refund_info[refd_pr_2].orig_net_amount', '47.00', '48.50'],
    ]);
    expect(findingsOf(outcome, 'chrg_pr_3')).toEqual([['FEES_NOT_REPORTED', 'pr_3', 'settlement_info', '', '100.00']]);
  });

  it('the guide’s Inquiry sample still holds: 11.00 refunded in full gives back 0.28 / 0.02 / 10.70', async () => {
    const G = '2026-02-07';
    // 11.00 × 2.5 % = 0.275 → 0.28; the refund: 0.28 × 11 ÷ 11 = 0.28; VAT 0.0196 → 0.02; net 10.70.
    const { add, runDay } = await books([cardAnswer('chrg_pr_4', G, {
      amount: '11.00',
      transaction_state: 'Refunded',
      settlement_info: settlement('11.00', '0.28', '0.02', '10.70'),
      refund_info: [refundEntry('refd_pr_4', G, '11.00', { mdr: '0.28', vat: '0.02', net: '10.70' })],
    })]);
    await add('ledger.csv', rows('chrg_pr_4', '11.00').map((row) => ({ ...row, transaction_date: G, amount: '11.00' })));
    const outcome = await runDay(G);
    expect(outcome.findings).toEqual([]);
    expect(outcome.code).toBe(0);
  });
});

describe('duplicates across dates', () => {
  // A charge of 300.00: MDR 7.50, VAT 7.50 × 7 % = 0.525 → 0.53, net 300.00 − 7.50 − 0.53 = 291.97.
  const paid = (id: string, date: string) => cardAnswer(id, date, { amount: '300.00', transaction_state: 'Settled', settlement_info: settlement('300.00', '7.50', '0.53', '291.97') });

  it('the run of the later row reports it, on the charge reconciled by its first row; every run counts the charge once', async () => {
    const D1 = '2026-02-08';
    const D2 = '2026-02-12';
    const { dir, add, cli, runDay, export: exportCli } = await books([paid('chrg_dup_1', D1)]);
    await add('day-1.csv', [cardRow('chrg_dup_1', D1, { entry_id: 'DUP-A', entry_type: 'charge', amount: '300.00' })]);
    const first = await runDay(D1);
    expect([first.code, first.findings]).toEqual([0, []]);

    // Four days later the same sale is booked again, by its reference order only.
    await add('day-2.csv', [{ entry_id: 'DUP-B', entry_type: 'charge', reference_order: 'ORD-chrg_dup_1', transaction_date: D2, source_type: 'card', currency: 'THB', amount: '300.00' }]);
    const second = await runDay(D2);
    expect(second.findings.map((f) => [f.code, f.entry_id, f.transaction_date, f.charge_id, f.field, f.ledger_value, f.finding_state])).toEqual([
      ['DUPLICATE_IN_LEDGER', 'DUP-B', D1, 'chrg_dup_1', 'reference_order', 'ORD-chrg_dup_1', 'new'],
    ]);
    expect(second.code).toBe(1);
    expect(second.run.counts).toMatchObject({ charges: 1, mismatched: 1 });
    // The later row is never a charge of its own: the run's one result is the charge's first row.
    const results = async (runId: string) =>
      database.db.selectFrom('recon_charge_results').select(['entry_id', 'transaction_date', 'amount']).where('run_id', '=', runId).execute();
    expect(await results(second.run.run_id)).toEqual([{ entry_id: 'DUP-A', transaction_date: D1, amount: '300.00' }]);

    // The first day again, now that both rows are booked: the same one charge, the same finding.
    const again = await cli(['rerun', '--from', D1, '--to', D1, '--as-of', shiftDate(D2, 1)]);
    expect(again.findings.map((f) => [f.code, f.entry_id, f.finding_state])).toEqual([['DUPLICATE_IN_LEDGER', 'DUP-B', 'still_open']]);
    expect(await results(again.run.run_id)).toEqual([{ entry_id: 'DUP-A', transaction_date: D1, amount: '300.00' }]);

    // The finance export of both days counts the sale once.
    const file = join(dir, 'export.csv');
    await exportCli(['--from', D1, '--to', D2, '--out', file]);
    const exported = parse(await readFile(file, 'utf8'), { columns: true, bom: true }) as Row[];
    expect(exported.filter((r) => r.charge_id === 'chrg_dup_1' || r.reference_order === 'ORD-chrg_dup_1').map((r) => [r.transaction_date, r.amount])).toEqual([[D1, '300.00']]);
  });

  it('on one date, the later row by entry_id is the duplicate, wherever the file puts it', async () => {
    const D = '2026-02-10';
    const { add, runDay } = await books([paid('chrg_dup_2', D)]);
    await add('ledger.csv', [
      cardRow('chrg_dup_2', D, { entry_id: 'DUP-2-b', entry_type: 'charge', amount: '300.00' }),
      cardRow('chrg_dup_2', D, { entry_id: 'DUP-2-a', entry_type: 'charge', amount: '300.00' }),
    ]);
    const outcome = await runDay(D);
    expect(outcome.findings.map((f) => [f.code, f.entry_id, f.field])).toEqual([['DUPLICATE_IN_LEDGER', 'DUP-2-b', 'charge_id']]);
    expect(outcome.run.counts).toMatchObject({ charges: 1 });
  });
});
