import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { buildCharge, type ChargeSpec, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { chargeHistory, type DatedRecord } from '../../src/sample/timeline.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * Issue 11's five nights (and two more for acknowledgements), over the simulator's moving clock:
 * `nightly --date N` runs as of N + 1 with the simulator answering as on day N.
 */
const database = await createTestDatabase();
const KEY = 'skey_test_five_nights_0123456789';
const D = '2026-04-10';
const day = (n: number) => shiftDate(D, n);

let simulator: Simulator;
let inbox: string;

const charge = (spec: Partial<ChargeSpec> & { key: string; date: string }) => buildCharge({ amount: '1000.00', ...spec });
/** A charge's gateway history with the records of some days dropped or changed. */
const historyOf = (c: ReturnType<typeof charge>, edit: (records: DatedRecord[]) => DatedRecord[] = (r) => r, plan?: Parameters<typeof chargeHistory>[1]) =>
  edit(chargeHistory(c, plan));

// Charges of D, each showing one part of §8.
const pending = charge({ key: 'pending', date: D }); // settles with its figures only on D+2
const zero = charge({ key: 'zero', date: D }); // settled without figures on D+1, figures on D+2
const booked = charge({ key: 'booked', date: D, refunds: [{ amount: '400.00', entryDate: day(3) }] }); // refund booked D+3, at the gateway D+4
const unverified = charge({ key: 'unverified', date: D }); // the gateway fails it on D and D+1
// Older charges, asked once before the nights: due a re-check at age 7 (D+4) and, one day younger, at D+5.
const recheck = charge({ key: 'recheck', date: day(-3) }); // refunded at the gateway only, on D+2
const quiet = charge({ key: 'quiet', date: day(-3) });
const younger = charge({ key: 'younger', date: day(-2) });
// A charge of D+3 booked at 500.00 that the gateway has at 505.00, then 506.00 from D+6.
const mismatch = charge({ key: 'mismatch', date: day(3), amount: '505.00' });
mismatch.ledger[0]!.amount = '500.00';

const { ledger: bookedCharge, refund: bookedRefund } = { ledger: booked.ledger.slice(0, 1), refund: booked.ledger.slice(1) };

const gateway: DatedRecord[] = [
  ...historyOf(pending, (r) => r.filter((record) => record._from !== day(1))),
  ...historyOf(zero),
  // The refund booked on D+3 reaches the gateway a day later.
  ...historyOf(booked, (r) => r.map((record) => (record._from === day(3) ? { ...record, _from: day(4) } : record))),
  ...historyOf(unverified),
  ...historyOf(recheck, undefined, { gatewayRefunds: [{ afterDays: 5, amount: '300.00' }] }),
  ...historyOf(quiet),
  ...historyOf(younger),
  // Figures only on D+6, and with them a different amount.
  ...historyOf(mismatch, (r) => [
    ...r.filter((record) => record._from < day(5)),
    { ...r.at(-1)!, _from: day(6), amount: 506 },
  ]),
];

const ids = (...charges: ReturnType<typeof charge>[]) => charges.map((c) => String(c.gateway.id)).sort();

beforeAll(async () => {
  inbox = await mkdtemp(join(tmpdir(), 'kpgw-five-nights-'));
  await mkdir(join(inbox, 'ledger'), { recursive: true });
  const rows: LedgerRow[] = [...pending.ledger, ...zero.ledger, ...bookedCharge, ...unverified.ledger, ...recheck.ledger, ...quiet.ledger, ...younger.ledger];
  await writeFile(join(inbox, 'ledger', 'books.csv'), ledgerCsv(rows));
  simulator = await startSimulator({ secretKey: KEY, charges: gateway, today: day(-1) });
});
afterAll(async () => {
  await simulator?.close();
  await rm(inbox, { recursive: true, force: true });
});

const env = () => ({
  DATABASE_URL: database.url,
  KPGW_BASE_URL: simulator.url,
  KPGW_SECRET_KEY: KEY,
  KPGW_RATE_LIMIT_RPS: '1000',
  // One request per charge and night, so the simulator's count is the number of charges asked.
  KPGW_MAX_RETRIES: '0',
  // …and no request times out on a busy machine, leaving a charge unverified for the next night.
  KPGW_TIMEOUT_MS: '600000',
  RECON_INBOX: inbox,
  RECON_REPORTS_DIR: join(inbox, 'reports'),
  LOG_LEVEL: 'warn',
});

interface Night {
  result: CliResult;
  run: { run_id: string; counts: Record<string, number>; gateway: { requests: number } };
  asked: string[];
  requests: number;
  csv: (name: string) => Promise<Record<string, string>[]>;
}

/** `nightly --date N` with the simulator's clock on N; what it asked, from the simulator and the audit trail. */
async function night(n: number, args: string[] = []): Promise<Night> {
  simulator.setToday(day(n));
  simulator.resetStats();
  const out = join(inbox, 'reports', `night-${n}`);
  const result = await runCli(['nightly', '--date', day(n), '--out', out, ...args], { env: env() });
  const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
  const asked = await database.db.selectFrom('gateway_inquiries').select('charge_key').where('run_id', '=', run.run_id).execute();
  return {
    result,
    run,
    asked: asked.map((a) => a.charge_key).sort(),
    requests: simulator.stats().total,
    csv: async (name) => parse(await readFile(join(out, name), 'utf8'), { columns: true, bom: true }),
  };
}

const findingsOf = (rows: Record<string, string>[], c: ReturnType<typeof charge>) =>
  rows.filter((r) => r.charge_id === c.gateway.id).map((r) => `${r.code} ${r.finding_state}`).sort();

const state = async (c: ReturnType<typeof charge>) =>
  database.db.selectFrom('charge_state').selectAll().where('charge_key', '=', String(c.gateway.id)).executeTakeFirstOrThrow();

describe('five nights over the simulator’s moving clock', () => {
  it('follows every charge until it is final, and asks nothing else', async () => {
    // Before the nights: the older charges are asked once, and are final.
    simulator.setToday(D);
    const first = await runCli(['run', '--from', day(-3), '--to', day(-2), '--as-of', D, '--ledger', join(inbox, 'ledger')], { env: env() });
    expect(first.code).toBe(0);
    expect(await state(recheck)).toMatchObject({ open: false, next_ask_on: day(4) });
    expect(await state(younger)).toMatchObject({ open: false, next_ask_on: day(5) });

    // Night D: the day's four charges; the gateway fails one.
    simulator.setFaults({ perCharge: { [String(unverified.gateway.id)]: 'http500' } });
    const n0 = await night(0);
    expect(n0.result.code).toBe(0);
    expect(n0.asked).toEqual(ids(pending, zero, booked, unverified));
    expect(n0.requests).toBe(4);
    const m0 = await n0.csv('mismatches.csv');
    expect(findingsOf(m0, pending)).toEqual(['SETTLEMENT_PENDING new']);
    expect(findingsOf(m0, unverified)).toEqual(['INQUIRY_FAILED new']);

    // Night D+1: no charge of its own; the four open ones again, the gateway still failing one.
    const n1 = await night(1);
    expect(n1.asked).toEqual(ids(pending, zero, booked, unverified));
    expect(n1.requests).toBe(4);
    expect(n1.run.counts).toMatchObject({ charges: 4, revisited: 4, rechecked: 0, deferred: 0 });
    const m1 = await n1.csv('mismatches.csv');
    expect(findingsOf(m1, pending)).toEqual(['SETTLEMENT_PENDING still_open']);
    expect(findingsOf(m1, zero)).toEqual(['FEES_NOT_REPORTED new']);
    expect(findingsOf(m1, unverified)).toEqual(['INQUIRY_FAILED still_open']);
    expect((await n1.csv('resolved.csv')).map((r) => `${r.charge_id} ${r.code}`).sort()).toEqual(
      [`${booked.gateway.id} SETTLEMENT_PENDING`, `${zero.gateway.id} SETTLEMENT_PENDING`].sort(),
    );

    // Night D+2: all four final; the pending finding resolved, the fees checked, the third try answered.
    simulator.setFaults({});
    const n2 = await night(2);
    expect(n2.asked).toEqual(ids(pending, zero, booked, unverified));
    expect(await n2.csv('mismatches.csv')).toEqual([]);
    expect((await n2.csv('resolved.csv')).map((r) => `${r.charge_id} ${r.code}`).sort()).toEqual(
      [
        `${pending.gateway.id} SETTLEMENT_PENDING`,
        `${zero.gateway.id} FEES_NOT_REPORTED`,
        `${booked.gateway.id} FEES_NOT_REPORTED`,
        `${unverified.gateway.id} INQUIRY_FAILED`,
      ].sort(),
    );
    const checked = await database.db
      .selectFrom('recon_charge_results')
      .select(['charge_id', 'status', 'mdr', 'vat', 'net_amount'])
      .where('run_id', '=', n2.run.run_id)
      .where('charge_id', 'in', ids(pending, unverified))
      .orderBy('charge_id')
      .execute();
    expect(checked).toEqual(ids(pending, unverified).map((id) => ({ charge_id: id, status: 'MATCHED', mdr: '25.0000', vat: '1.7500', net_amount: '973.2500' })));
    expect(await state(pending)).toMatchObject({ open: false, open_reason: null, open_since: null, next_ask_on: day(7) });

    // Night D+3: the refund booked today brings its charge back; the gateway does not list it yet.
    await writeFile(join(inbox, 'ledger', 'refund.csv'), ledgerCsv([...bookedRefund, ...mismatch.ledger]));
    const n3 = await night(3);
    expect(n3.asked).toEqual(ids(booked, mismatch));
    expect(n3.result.code).toBe(1);
    const m3 = await n3.csv('mismatches.csv');
    expect(findingsOf(m3, booked)).toEqual(['REFUND_PENDING new']);
    expect(findingsOf(m3, mismatch)).toEqual(['AMOUNT_MISMATCH new', 'SETTLEMENT_PENDING new']);

    // The clerk acknowledges the amount in Excel: a note column, saved with its BOM.
    const edited = await editedMismatches(join(inbox, 'reports', 'night-3', 'mismatches.csv'), String(mismatch.gateway.id), 'AMOUNT_MISMATCH', 'KBank credit note 123');
    const ack = await runCli(['ack', '--file', edited, '--by', 'somchai'], { env: env() });
    expect([ack.code, ack.stdout.trim()]).toEqual([0, 'acknowledged 1 finding']);

    // Night D+4: the refund is at the gateway; the older charges reach their 7-day re-check, and
    // one has a refund made only at the gateway.
    const n4 = await night(4);
    expect(n4.asked).toEqual(ids(booked, mismatch, recheck, quiet));
    expect(n4.run.counts).toMatchObject({ revisited: 2, rechecked: 2, deferred: 0 });
    const m4 = await n4.csv('mismatches.csv');
    expect(findingsOf(m4, booked)).toEqual([]);
    expect(findingsOf(m4, recheck)).toEqual(['REFUND_NOT_IN_LEDGER new', 'STATE_MISMATCH new']);
    // Settled at the gateway's amount: the settlement differs from the books too, a new finding.
    expect(findingsOf(m4, mismatch)).toEqual(['AMOUNT_MISMATCH acknowledged', 'FEES_NOT_REPORTED new', 'SETTLE_AMOUNT_MISMATCH new']);
    expect(m4.find((r) => r.code === 'AMOUNT_MISMATCH')).toMatchObject({ acknowledged_by: 'somchai', ack_note: 'KBank credit note 123', first_seen_on: day(3) });
    expect((await n4.csv('resolved.csv')).map((r) => `${r.charge_id} ${r.code}`)).toContain(`${booked.gateway.id} REFUND_PENDING`);
    expect(n4.result.code).toBe(1);
    // The open items after night D+4 (run as of D+5), as the command lists them that day.
    const listed = join(inbox, 'open-items.csv');
    const command = await runCli(['open-items', '--as-of', day(5), '--out', listed], { env: env() });
    expect(command.code).toBe(0);
    const nightList = await readFile(join(inbox, 'reports', 'night-4', 'open-items.csv'), 'utf8');
    expect(await readFile(listed, 'utf8')).toBe(nightList);
    const items = await n4.csv('open-items.csv');
    expect(items.map((r) => `${r.charge_id} ${r.kind} ${r.code} ${r.age_bucket}`).sort()).toEqual(
      [
        `${mismatch.gateway.id} open_charge FEES_NOT_REPORTED 0-1`,
        `${mismatch.gateway.id} finding SETTLE_AMOUNT_MISMATCH 0-1`,
        `${recheck.gateway.id} finding REFUND_NOT_IN_LEDGER 0-1`,
        `${recheck.gateway.id} finding STATE_MISMATCH 0-1`,
      ].sort(),
    );

    // The settlement acknowledged too, on the command line; taken back, it is listed again; given again.
    const settle = ['--charge', String(mismatch.gateway.id), '--code', 'SETTLE_AMOUNT_MISMATCH'];
    const openSettle = async () => {
      const listing = await runCli(['open-items', '--as-of', day(5)], { env: env() });
      return listing.stdout.split('\n').filter((line) => line.includes('SETTLE_AMOUNT_MISMATCH')).length;
    };
    expect((await runCli(['ack', ...settle, '--note', 'same credit note', '--by', 'somchai'], { env: env() })).code).toBe(0);
    expect(await openSettle()).toBe(0);
    expect((await runCli(['ack', '--undo', ...settle, '--by', 'malee'], { env: env() })).code).toBe(0);
    expect(await openSettle()).toBe(1);
    expect((await runCli(['ack', ...settle, '--note', 'same credit note', '--by', 'somchai'], { env: env() })).code).toBe(0);
    const trail = await database.db.selectFrom('finding_acknowledgements').select(['code', 'acked_by', 'undone_by']).orderBy('id').execute();
    expect(trail).toEqual([
      { code: 'AMOUNT_MISMATCH', acked_by: 'somchai', undone_by: null },
      { code: 'SETTLE_AMOUNT_MISMATCH', acked_by: 'somchai', undone_by: 'malee' },
      { code: 'SETTLE_AMOUNT_MISMATCH', acked_by: 'somchai', undone_by: null },
    ]);

    // Night D+5: acknowledged findings are all that is wrong: exit 0. The younger charge's re-check.
    const n5 = await night(5);
    expect(n5.asked).toEqual(ids(mismatch, younger));
    expect(findingsOf(await n5.csv('mismatches.csv'), mismatch)).toEqual(['AMOUNT_MISMATCH acknowledged', 'FEES_NOT_REPORTED still_open', 'SETTLE_AMOUNT_MISMATCH acknowledged']);
    expect(n5.result.code).toBe(0);

    // Night D+6: the gateway's amount changes: the acknowledgement no longer holds.
    const n6 = await night(6);
    expect(n6.asked).toEqual(ids(mismatch));
    const m6 = await n6.csv('mismatches.csv');
    expect(findingsOf(m6, mismatch)).toEqual(['AMOUNT_MISMATCH new', 'SETTLE_AMOUNT_MISMATCH acknowledged']);
    expect(m6.find((r) => r.code === 'AMOUNT_MISMATCH')).toMatchObject({ gateway_value: '506.00', first_seen_on: day(6), acknowledged_by: '', ack_note: '' });
    expect(n6.result.code).toBe(1);
  });
});

/** What a clerk does in Excel: a `note` column filled on one row, saved as "CSV UTF-8" (with BOM). */
async function editedMismatches(file: string, chargeId: string, code: string, note: string): Promise<string> {
  const rows = parse(await readFile(file, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
  const header = [...Object.keys(rows[0]!), 'note'];
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const lines = rows.map((r) => header.map((h) => quote(h === 'note' ? (r.charge_id === chargeId && r.code === code ? note : '') : r[h]!)).join(','));
  const edited = join(inbox, 'edited.csv');
  await writeFile(edited, `\uFEFF${[header.join(','), ...lines].join('\r\n')}\r\n`);
  return edited;
}
