import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { readNotification } from '../../src/notify/notification.ts';
import { storeNotifications } from '../../src/notify/notification-store.ts';
import { buildCharge, type GatewayBody, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { forgedNotifyBody, notifyBodyOf } from '../../src/simulator/notify-sender.ts';
import { CLI_TEST_TIMEOUT_MS } from '../helpers/books.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { dumpTables } from './helpers.ts';

/**
 * KBank's notifications in the night (docs/reference.md §6), through
 * the CLI, over real HTTP to the simulator, on real PostgreSQL: a charge only KBank knows is
 * NOT_IN_LEDGER once its grace hours are over (and not before), a forged notification and one
 * KBank contradicts are findings, a night decides by its own moment whenever it is run, the
 * request budget takes notified charges after the night's own and before the open ones, and the
 * finance outputs list the charge the books lack. Notifications are stored through the code the
 * receiver and the import use, with the time each was received, since the nights are in the past.
 */
const nights = await createTestDatabase();
const onTime = await createTestDatabase();
const budget = await createTestDatabase();
const KEY = 'skey_test_NightNotifyKey0123456789';
const D = '2026-04-10';
/** A moment of day `date` in Bangkok (UTC+7), e.g. `at(D, '10:15:05')`. */
const at = (date: string, time: string) => new Date(`${date}T${time}+07:00`);

let simulator: Simulator;
let dir: string;
const outputs: string[] = [];

// The books of night D: L1 paid and booked; L2 booked as paid, notified as paid, then reversed by
// KBank. G paid on D and never booked; G2 (Thai QR) paid on D+1 and never booked. L3 booked on D+1.
const l1 = buildCharge({ key: 'night-l1', date: D, amount: '500.00' });
const l2 = buildCharge({ key: 'night-l2', date: D, amount: '800.00' });
const g = buildCharge({ key: 'night-g', date: D, amount: '2000.00' });
const g2 = buildCharge({ key: 'night-g2', date: shiftDate(D, 1), amount: '350.00', sourceType: 'qr' });
const l3 = buildCharge({ key: 'night-l3', date: shiftDate(D, 1), amount: '120.00' });
const l2Authorized = { ...l2.gateway, transaction_state: 'Authorized', settlement_info: null };
Object.assign(l2.gateway, { status: 'fail', transaction_state: 'Reversed', settlement_info: null, failure_code: '59', failure_message: 'Suspected fraud' });
/** G booked late, by its reference order alone (the shop's export has no charge id). */
const gBooked: LedgerRow = Object.fromEntries(Object.entries(g.ledger[0]!).filter(([column]) => column !== 'charge_id'));

// Budget: O1, O2 open since the night before; A1, A2 the night's own; N1 only KBank knows; B
// booked three days before, on a day no night ran, and notified.
const B = '2026-05-10';
const o1 = buildCharge({ key: 'budget-o1', date: shiftDate(B, -1), amount: '100.00' });
const o2 = buildCharge({ key: 'budget-o2', date: shiftDate(B, -1), amount: '101.00' });
for (const open of [o1, o2]) Object.assign(open.gateway, { transaction_state: 'Captured', settlement_info: null });
const a1 = buildCharge({ key: 'budget-a1', date: B, amount: '200.00' });
const a2 = buildCharge({ key: 'budget-a2', date: B, amount: '201.00' });
const n1 = buildCharge({ key: 'budget-n1', date: B, amount: '300.00' });
const b = buildCharge({ key: 'budget-b', date: shiftDate(B, -3), amount: '400.00' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-notify-night-'));
  simulator = await startSimulator({ secretKey: KEY, charges: [l1, l2, g, g2, l3, o1, o2, a1, a2, n1, b].map((c) => c.gateway), today: D });
});
afterAll(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The simulator, for `nightly` and `rerun`: no fault is switched on, so each charge is one
 * request; and one slowed by a busy machine must not time out (a charge unverified by chance).
 */
const GATEWAY = { KPGW_SECRET_KEY: KEY, KPGW_RATE_LIMIT_RPS: '1000', KPGW_MAX_RETRIES: '0', KPGW_TIMEOUT_MS: '60000' };

/** Stores a Notify body as received at `when`, with the receiver's checks. */
async function notify(database: TestDatabase, body: Record<string, unknown>, when: Date): Promise<void> {
  const read = readNotification(JSON.stringify(body), KEY, { at: when, via: 'import', from: 'notify-night test' });
  if (!read.ok) throw new Error(read.reason);
  expect(await storeNotifications(database.db, [read.notification])).toEqual(['stored']);
}

const paid = (charge: { gateway: GatewayBody }) => notifyBodyOf(charge.gateway, 'card', KEY);

/** `nightly --date date`, as of the morning after (the simulator's clock too), on `database` with the ledger `rows`. */
async function night(database: TestDatabase, name: string, date: string, rows: LedgerRow[], options: { args?: string[]; env?: Record<string, string> } = {}) {
  const inbox = join(dir, name);
  await mkdir(join(inbox, 'ledger'), { recursive: true });
  await writeFile(join(inbox, 'ledger', 'books.csv'), ledgerCsv(rows));
  simulator.setToday(shiftDate(date, 1));
  simulator.resetStats();
  const out = join(inbox, 'report');
  const result = await runCli(['nightly', '--date', date, '--out', out, ...(options.args ?? [])], {
    env: { DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, ...GATEWAY, RECON_INBOX: inbox, ...options.env },
  });
  outputs.push(result.stdout, result.stderr);
  expect([0, 1], result.stderr).toContain(result.code);
  const csv = async (file: string) => parse(await readFile(join(out, file), 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
  const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { run_id: string; counts: Record<string, number> };
  const asked = await database.db.selectFrom('gateway_inquiries').select('charge_key').where('run_id', '=', run.run_id).execute();
  return { result, run, out, csv, requests: simulator.stats().total, asked: asked.map((a) => a.charge_key).sort() };
}

/** What a finding says, without the run's id and times. */
const said = (m: Record<string, string>) => `${m.code} ${m.transaction_date} ${m.charge_id} ${m.reference_order} ${m.entry_id} ${m.field} ${m.gateway_value}`;

describe('a nightly with KBank notifications', () => {
  it('checks notified charges, waits out the grace hours, finds the charge only KBank knows and the one it contradicts, reports a forgery once, and forgets none', async () => {
    await notify(nights, paid(l1), at(D, '10:15:05'));
    await notify(nights, notifyBodyOf(l2Authorized, 'card', KEY), at(D, '10:15:06'));
    await notify(nights, paid(g), at(D, '10:15:07'));
    await notify(nights, forgedNotifyBody(D), at(D, '11:00:00'));
    // Received the next morning: after night D's moment (D+1 00:00), whenever night D is run.
    await notify(nights, notifyBodyOf(g2.gateway, 'qr', KEY), at(shiftDate(D, 1), '09:00:00'));

    // Night D, run long after it (all five stored): its own L1 and L2, each checked against its
    // notification; G is within its 24 grace hours at D+1 00:00, so it waits, unasked; G2 is
    // not the night's at all.
    const first = await night(nights, 'night-d', D, [...l1.ledger, ...l2.ledger]);
    expect(first.result.code).toBe(1);
    expect(first.asked).toEqual(['chrg_test_night-l1', 'chrg_test_night-l2']);
    expect(first.requests).toBe(2);
    const firstFindings = await first.csv('mismatches.csv');
    expect(firstFindings.map(said).sort()).toEqual([
      `NOTIFY_CHECKSUM_INVALID ${D} chrg_test_forged_notify_000001 FORGED-000001  checksum 9999`,
      `NOTIFY_STATE_MISMATCH ${D} chrg_test_night-l2 ORD-night-l2 E-night-l2 status fail`,
      `STATE_MISMATCH ${D} chrg_test_night-l2 ORD-night-l2 E-night-l2 status fail`,
    ]);
    expect(first.result.stdout).toMatch(/notified {4}asked 0 {3}waiting for the ledger \(grace hours\) 1/);

    // Night D+1: its own L3 (no notification: no finding), and G, whose grace hours are over.
    const second = await night(nights, 'night-d1', shiftDate(D, 1), [...l1.ledger, ...l2.ledger, ...l3.ledger]);
    expect(second.result.code).toBe(1);
    expect(second.asked).toEqual(['chrg_test_night-g', 'chrg_test_night-l3']);
    const secondFindings = await second.csv('mismatches.csv');
    expect(secondFindings.map(said)).toEqual([`NOT_IN_LEDGER ${D} chrg_test_night-g ORD-night-g  amount 2000.00`]);
    expect(secondFindings[0]!.message).toMatch(/KBank took 2000\.00 THB as charge chrg_test_night-g \(reference ORD-night-g\), created 2026-04-10, state Settled/);
    expect(second.result.stdout).toMatch(/NOT_IN_LEDGER +1 +error/);
    expect(second.result.stdout).toMatch(/notified {4}asked 1 {3}waiting for the ledger \(grace hours\) 1/);
    // Counted with the rest of its day: no ledger gross, KBank's figures (2,000.00 × 2.5 % = 50.00, its VAT 3.50, net 1,946.50).
    expect((await second.csv('summary.csv')).filter((r) => r.transaction_date === D)).toEqual([expect.objectContaining({
      source_type: 'card', charges: '1', matched: '0', mismatched: '1', gross_amount: '0.00', settled_amount: '2000.00', mdr: '50.00', vat: '3.50', net_amount: '1946.50', fees_pending: '0',
    })]);
    expect((await second.csv('open-items.csv')).filter((r) => r.code === 'NOT_IN_LEDGER').map((r) => `${r.kind} ${r.charge_id}`)).toEqual(['finding chrg_test_night-g']);
    expect(await readFile(join(second.out, 'report.html'), 'utf8')).toContain('NOT_IN_LEDGER');

    // The finance outputs of D and of April, worked out by hand: L1 500.00 at 2.5 % is 12.50,
    // its VAT 0.875 → 0.88, net 500.00 − 12.50 − 0.88 = 486.62; G 2,000.00 is 50.00 and 3.50, net 1,946.50;
    // L3 (D+1) 120.00 is 3.00 and 0.21;
    // L2 failed, so KBank charged nothing. KBank's invoice for April: 12.50 + 3.00 + 50.00 =
    // 65.50 MDR, 0.88 + 0.21 + 3.50 = 4.59 VAT: it ties only with G's fees in the schedule.
    const exportFile = join(dir, 'export.csv');
    const exported = await runCli(['export', '--from', D, '--to', D, '--out', exportFile], { env: { DATABASE_URL: nights.url } });
    outputs.push(exported.stdout, exported.stderr);
    expect(exported.code, exported.stderr).toBe(0);
    const rows = parse(await readFile(exportFile, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.charge_id, r.status, r.amount, r.settled_amount, r.mdr, r.vat, r.net_amount, r.codes])).toEqual([
      ['chrg_test_night-l1', 'MATCHED', '500.00', '500.0000', '12.5000', '0.8800', '486.6200', ''],
      ['chrg_test_night-l2', 'MISMATCH', '800.00', '', '', '', '', 'STATE_MISMATCH NOTIFY_STATE_MISMATCH'],
      ['chrg_test_night-g', 'NOT_IN_LEDGER', '2000.00', '2000.0000', '50.0000', '3.5000', '1946.5000', 'NOT_IN_LEDGER'],
    ]);
    const vatFile = join(dir, 'vat.csv');
    const vat = await runCli(['vat-report', '--month', '2026-04', '--out', vatFile, '--invoice-mdr', '65.50', '--invoice-vat', '4.59'], { env: { DATABASE_URL: nights.url } });
    outputs.push(vat.stdout, vat.stderr);
    expect(vat.stdout).toMatch(/1 not in the ledger \(NOT_IN_LEDGER\)/);
    const schedule = parse(await readFile(vatFile, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    expect(schedule.map((r) => `${r.kind} ${r.date} ${r.charge_id} ${r.charges} ${r.settled_amount} ${r.mdr} ${r.vat} ${r.amount} ${r.reason}`)).toEqual([
      `fees ${D}  1 500.00 12.50 0.88 500.00 `,
      `fees ${shiftDate(D, 1)}  1 120.00 3.00 0.21 120.00 `,
      `not_in_ledger ${D} chrg_test_night-g 1 2000.00 50.00 3.50 2000.00 not in the ledger (NOT_IN_LEDGER): KBank charged it, and its fees are on KBank's invoice`,
      `fees_unknown ${D} chrg_test_night-l2 1    800.00 not charged by the gateway (unknown to it, or the payment failed)`,
      'total   3 2620.00 65.50 4.59  ',
      'invoice     65.50 4.59  KBank tax invoice',
      'difference     0.00 0.00  ties to the invoice to the satang',
    ]);

    // Findings like any other: a clerk acknowledges the forgery (it leaves the open items); asked
    // again, the reversed charge's notification is still contradicted (still open).
    const ack = await runCli(['ack', '--charge', 'chrg_test_forged_notify_000001', '--code', 'NOTIFY_CHECKSUM_INVALID', '--note', 'forged: told KBank', '--by', 'clerk'], { env: { DATABASE_URL: nights.url } });
    outputs.push(ack.stdout, ack.stderr);
    expect(ack.code, ack.stderr).toBe(0);
    const open = await runCli(['open-items', '--as-of', shiftDate(D, 2)], { env: { DATABASE_URL: nights.url } });
    outputs.push(open.stdout, open.stderr);
    const items = parse(open.stdout, { columns: true, bom: true }) as Record<string, string>[];
    expect(items.filter((r) => r.kind === 'finding').map((r) => `${r.code} ${r.charge_id}`).sort()).toEqual([
      'NOTIFY_STATE_MISMATCH chrg_test_night-l2', 'NOT_IN_LEDGER chrg_test_night-g', 'STATE_MISMATCH chrg_test_night-l2',
    ]);
    simulator.setToday(shiftDate(D, 2));
    const rerunOut = join(dir, 'rerun-d');
    const rerun = await runCli(['rerun', '--from', D, '--to', D, '--out', rerunOut], { env: { DATABASE_URL: nights.url, KPGW_BASE_URL: simulator.url, ...GATEWAY } });
    outputs.push(rerun.stdout, rerun.stderr);
    expect(rerun.code, rerun.stderr).toBe(1);
    const rerunFindings = parse(await readFile(join(rerunOut, 'mismatches.csv'), 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    expect(rerunFindings.map((m) => `${m.code} ${m.finding_state}`).sort()).toEqual(['NOTIFY_STATE_MISMATCH still_open', 'STATE_MISMATCH still_open']);

    // Night D+2: the shop books G at last (by its reference alone), which resolves its finding;
    // G2's grace hours are over: NOT_IN_LEDGER, Thai QR, no fees reported.
    const third = await night(nights, 'night-d2', shiftDate(D, 2), [...l1.ledger, ...l2.ledger, ...l3.ledger, gBooked]);
    expect(third.asked).toEqual(['ORD-night-g', 'chrg_test_night-g2']);
    expect((await third.csv('mismatches.csv')).map(said)).toEqual([`NOT_IN_LEDGER ${shiftDate(D, 1)} chrg_test_night-g2 ORD-night-g2  amount 350.00`]);
    expect((await third.csv('resolved.csv')).map((r) => `${r.code} ${r.charge_id}`)).toEqual(['NOT_IN_LEDGER chrg_test_night-g']);
    const again = await runCli(['export', '--from', D, '--to', D, '--out', exportFile], { env: { DATABASE_URL: nights.url } });
    outputs.push(again.stdout, again.stderr);
    const booked = parse(await readFile(exportFile, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    // Its ledger row (E-night-g) in its place, once.
    expect(booked.map((r) => `${r.charge_id} ${r.status}`)).toEqual(['chrg_test_night-g MATCHED', 'chrg_test_night-l1 MATCHED', 'chrg_test_night-l2 MISMATCH']);

    // Each notification dealt with once, by the night that took it.
    const outcomes = await nights.db.selectFrom('notification_outcomes').select(['charge_key', 'dealt_on']).orderBy('notification_id').execute();
    expect(outcomes).toEqual([
      { charge_key: 'chrg_test_night-l1', dealt_on: D },
      { charge_key: 'chrg_test_night-l2', dealt_on: D },
      { charge_key: 'chrg_test_night-g', dealt_on: shiftDate(D, 1) },
      { charge_key: 'chrg_test_forged_notify_000001', dealt_on: D },
      { charge_key: 'chrg_test_night-g2', dealt_on: shiftDate(D, 2) },
    ]);
  }, CLI_TEST_TIMEOUT_MS);

  it('decides a night replayed later exactly as on the morning after it', async () => {
    // The same night on a database that had, on time, only what came before D+1 00:00.
    await notify(onTime, paid(l1), at(D, '10:15:05'));
    await notify(onTime, notifyBodyOf(l2Authorized, 'card', KEY), at(D, '10:15:06'));
    await notify(onTime, paid(g), at(D, '10:15:07'));
    await notify(onTime, forgedNotifyBody(D), at(D, '11:00:00'));
    const timely = await night(onTime, 'on-time-d', D, [...l1.ledger, ...l2.ledger]);
    const late = await parse(await readFile(join(dir, 'night-d', 'report', 'mismatches.csv'), 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    expect((await timely.csv('mismatches.csv')).map(said).sort()).toEqual(late.map(said).sort());
    expect(timely.asked).toEqual(['chrg_test_night-l1', 'chrg_test_night-l2']);
    expect(timely.result.stdout).toMatch(/waiting for the ledger \(grace hours\) 1/);
  }, CLI_TEST_TIMEOUT_MS);

  it("asks notified charges after the night's own and before the open ones, within the budget; the next night takes what was deferred", async () => {
    const books = [...o1.ledger, ...o2.ledger, ...a1.ledger, ...a2.ledger, ...b.ledger];
    const before = await night(budget, 'budget-1', shiftDate(B, -1), books);
    expect(before.asked).toEqual(['chrg_test_budget-o1', 'chrg_test_budget-o2']);
    await notify(budget, paid(n1), at(B, '08:00:00'));
    await notify(budget, paid(b), at(B, '09:00:00'));

    // 2 own, 2 notified (N1 received first, then B, booked days ago), 2 open: 3 are asked.
    const env = { RECON_NOTIFY_GRACE_HOURS: '0' };
    const cut = await night(budget, 'budget-2', B, books, { args: ['--max-requests', '3'], env });
    expect(cut.asked).toEqual(['chrg_test_budget-a1', 'chrg_test_budget-a2', 'chrg_test_budget-n1']);
    expect(cut.requests).toBe(3);
    expect(cut.run.counts).toMatchObject({ charges: 3, revisited: 0, deferred: 3 });
    expect((await cut.csv('mismatches.csv')).map((m) => `${m.code} ${m.charge_id}`)).toEqual(['NOT_IN_LEDGER chrg_test_budget-n1']);
    const pending = await budget.db.selectFrom('notification_outcomes').select('charge_key').where('dealt_on', 'is', null).execute();
    expect(pending).toEqual([{ charge_key: null }]);

    const next = await night(budget, 'budget-3', shiftDate(B, 1), books, { env });
    expect(next.asked).toEqual(['chrg_test_budget-b', 'chrg_test_budget-o1', 'chrg_test_budget-o2']);
    expect(await budget.db.selectFrom('notification_outcomes').select('charge_key').where('dealt_on', 'is', null).execute()).toEqual([]);
  }, CLI_TEST_TIMEOUT_MS);

  it('leaves the key in no output, report file or table, in any letter case', async () => {
    let seen = outputs.join('\n');
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) seen += await readFile(join(entry.parentPath, entry.name), 'utf8');
    }
    for (const database of [nights, onTime, budget]) seen += await dumpTables(database.db);
    // Not vacuous: the logs, the reports and the tables are all there.
    expect(seen).toMatch(/run finished/);
    expect(seen).toMatch(/NOT_IN_LEDGER/);
    expect(seen).toMatch(/notification_outcomes/);
    expect(seen.toLowerCase().includes(KEY.toLowerCase())).toBe(false);
  });
});
