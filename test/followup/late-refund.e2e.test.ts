import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { openBooks, type Books } from '../helpers/books.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { cardAnswer, cardRow, ledgerText, settlement } from '../helpers/hand-books.ts';

/**
 * Issue 22's late ledger refund: a refund booked 74 days after its sale and never made at KBank
 * re-opens its charge from the day it was booked, whatever the charge's age; the charge is asked
 * again each night until RECON_REFUND_GRACE_DAYS have passed, then it is an error (exit 1), not
 * a charge "stale" since its sale date with every night exiting 0. Ages count from `open_since`.
 */
const database = await createTestDatabase();
const D = '2026-01-05';
const day = (n: number) => shiftDate(D, n);

let books: Books;
let inbox: string;

beforeAll(async () => {
  // Both settled on D, and never refunded at KBank. 800.00: MDR 20.00, VAT 1.40, net 778.60;
  // 400.00: MDR 10.00, VAT 0.70, net 389.30 (2.5 %, VAT 7 %; no fee schedule is given, so only
  // the amounts and states are checked).
  books = await openBooks(database, [
    cardAnswer('chrg_late_1', D, { amount: '800.00', transaction_state: 'Settled', settlement_info: settlement('800.00', '20.00', '1.40', '778.60') }),
    cardAnswer('chrg_late_2', D, { amount: '400.00', transaction_state: 'Settled', settlement_info: settlement('400.00', '10.00', '0.70', '389.30') }),
  ]);
  inbox = join(books.dir, 'inbox');
  await mkdir(join(inbox, 'ledger'), { recursive: true });
  await writeFile(join(inbox, 'ledger', 'sales.csv'), ledgerText([
    cardRow('chrg_late_1', D, { entry_id: 'LATE-1', entry_type: 'charge', amount: '800.00' }),
    cardRow('chrg_late_2', D, { entry_id: 'LATE-2', entry_type: 'charge', amount: '400.00' }),
  ]));
});
afterAll(() => books?.close());

const env = () => ({
  KPGW_MAX_RETRIES: '0',
  RECON_INBOX: inbox,
  RECON_REFUND_GRACE_DAYS: '3',
  RECON_OPEN_MAX_DAYS: '60',
  // No re-checks by age: a charge is asked only because its night covers it or it is open.
  RECON_RECHECK_AGES: '',
});

/** `args` with the simulator's clock on `today`; what it found, asked and the exit code. */
async function command(today: string, args: string[]) {
  books.simulator.setToday(today);
  const out = join(books.dir, 'reports', `${args[0]}-${args[2]}-${Math.random().toString(36).slice(2, 6)}`);
  const result = await books.cli([...args, '--out', out], env());
  const csv = async (name: string) => parse(await readFile(join(out, name), 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
  const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { run_id: string };
  const asked = await database.db.selectFrom('gateway_inquiries').select('charge_key').where('run_id', '=', run.run_id).orderBy('charge_key').execute();
  return {
    code: result.code,
    asked: asked.map((a) => a.charge_key),
    findings: (await csv('mismatches.csv')).map((f) => `${f.charge_id} ${f.code} ${f.entry_id}`),
    openItems: (await csv('open-items.csv')).map((r) => `${r.charge_id} ${r.kind} ${r.code} since ${r.open_since} age ${r.age_days} ${r.age_bucket} next ${r.next_ask_on}`),
  };
}
const nightly = (n: number) => command(day(n), ['nightly', '--date', day(n)]);
const state = (key: string) =>
  database.db.selectFrom('charge_state').select(['open', 'open_reason', 'open_since', 'next_ask_on']).where('charge_key', '=', key).executeTakeFirstOrThrow();

describe('a refund booked long after its sale, never made at KBank', () => {
  it('re-opens the charge from its booking day, is asked each night, and is REFUND_MISSING_AT_GATEWAY after the grace days', async () => {
    const n0 = await nightly(0);
    expect([n0.code, n0.asked, n0.findings]).toEqual([0, ['chrg_late_1', 'chrg_late_2'], []]);
    expect(await state('chrg_late_1')).toMatchObject({ open: false, next_ask_on: null });

    // D+74: the books refund 200.00 of the first sale. Its night covers the refund's booking day.
    await writeFile(join(inbox, 'ledger', 'refund-1.csv'), ledgerText([
      cardRow('chrg_late_1', D, { entry_id: 'LATE-1-R', entry_type: 'refund', entry_date: day(74), amount: '200.00' }),
    ]));
    const n74 = await nightly(74);
    expect([n74.code, n74.asked, n74.findings]).toEqual([0, ['chrg_late_1'], ['chrg_late_1 REFUND_PENDING LATE-1-R']]);
    // Open since the refund was booked: 0 nights old, followed, not stale by its sale date.
    expect(n74.openItems).toEqual([`chrg_late_1 open_charge REFUND_PENDING since ${day(74)} age 0 0-1 next ${day(75)}`]);

    // A refund of the second sale booked on D+73 comes in a file a day late; the clerk runs that
    // day by hand. The charge is open since the day the refund was booked, not since the run.
    await writeFile(join(inbox, 'ledger', 'refund-2.csv'), ledgerText([
      cardRow('chrg_late_2', D, { entry_id: 'LATE-2-R', entry_type: 'refund', entry_date: day(73), amount: '100.00' }),
    ]));
    const byHand = await command(day(74), ['run', '--from', day(73), '--as-of', day(75), '--ledger', join(inbox, 'ledger')]);
    expect([byHand.code, byHand.asked, byHand.findings]).toEqual([0, ['chrg_late_2'], ['chrg_late_2 REFUND_PENDING LATE-2-R']]);
    expect(await state('chrg_late_2')).toMatchObject({ open: true, open_reason: 'REFUND_PENDING', open_since: day(73) });
    expect(byHand.openItems).toEqual([
      `chrg_late_2 open_charge REFUND_PENDING since ${day(73)} age 1 0-1 next ${day(75)}`,
      `chrg_late_1 open_charge REFUND_PENDING since ${day(74)} age 0 0-1 next ${day(75)}`,
    ]);

    // D+75, as of D+76: three days after D+73 the second refund is missing at KBank (and, as for
    // any missing refund, the books expect Partial Refund where KBank says Settled); the first,
    // booked on D+74, is still within its grace days.
    const n75 = await nightly(75);
    expect(n75.asked).toEqual(['chrg_late_1', 'chrg_late_2']);
    expect(n75.findings).toEqual(['chrg_late_1 REFUND_PENDING LATE-1-R', 'chrg_late_2 REFUND_MISSING_AT_GATEWAY LATE-2-R', 'chrg_late_2 STATE_MISMATCH LATE-2']);
    expect(n75.code).toBe(1);

    // D+76, as of D+77: the first is missing too. Both are final, and their findings stay listed.
    const n76 = await nightly(76);
    expect(n76.asked).toEqual(['chrg_late_1']);
    expect(n76.findings).toEqual(['chrg_late_1 REFUND_MISSING_AT_GATEWAY LATE-1-R', 'chrg_late_1 STATE_MISMATCH LATE-1']);
    expect(n76.code).toBe(1);
    expect(await state('chrg_late_1')).toMatchObject({ open: false, open_reason: null, next_ask_on: null });
    expect(n76.openItems).toEqual([
      `chrg_late_2 finding REFUND_MISSING_AT_GATEWAY since ${day(75)} age 1 0-1 next `,
      `chrg_late_2 finding STATE_MISMATCH since ${day(75)} age 1 0-1 next `,
      `chrg_late_1 finding REFUND_MISSING_AT_GATEWAY since ${day(76)} age 0 0-1 next `,
      `chrg_late_1 finding STATE_MISMATCH since ${day(76)} age 0 0-1 next `,
    ]);
  });
});
