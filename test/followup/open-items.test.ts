import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openItems, writeOpenItemsCsv, type OpenItemRow } from '../../src/followup/open-items.ts';
import { runCliInProcess } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { chargeState, finding, finishedRun } from './rows.ts';

const database = await createTestDatabase();
const many = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-open-items-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

// As of 2026-03-11: the night is 2026-03-10, and ages count nights up to it.
const AS_OF = '2026-03-11';
const SCOPE = { asOf: AS_OF, openMaxDays: 60 };
const ASKED = { last_asked_on: '2026-03-10', last_asked_at: new Date('2026-03-10T19:30:00.250Z'), next_ask_on: '2026-03-11' };

beforeAll(async () => {
  const open = (reason: string, since: string) => ({ open: true, open_reason: reason as 'DEFERRED', open_since: since });
  await database.db
    .insertInto('charge_state')
    .values([
      // 64 nights after its transaction date, past RECON_OPEN_MAX_DAYS: stale, no longer asked by itself.
      chargeState('stale1', { ...ASKED, ...open('INQUIRY_FAILED', '2026-01-05'), transaction_date: '2026-01-05', amount: '250.00', open_message: 'the gateway did not answer: timeout', last_asked_at: new Date('2026-03-10T19:31:02.987654Z') }),
      // Exactly 60 nights: still followed.
      chargeState('edge60', { ...ASKED, ...open('REFUND_PENDING', '2026-01-09'), transaction_date: '2026-01-09', open_message: 'refund booked 2026-03-07 not at the gateway yet' }),
      chargeState('edge8', { ...ASKED, ...open('FEES_NOT_REPORTED', '2026-03-02'), transaction_date: '2026-02-25', open_message: 'fee figures not reported yet' }),
      chargeState('sent', { ...ASKED, ...open('REFUND_SENT', '2026-03-04'), transaction_date: '2026-03-01', reference_order: '=HYPERLINK("http://x")' }),
      chargeState('pend', { ...ASKED, ...open('SETTLEMENT_PENDING', '2026-03-09'), amount: '1070.50', open_message: 'captured, not settled yet' }),
      chargeState('deferred', { ...open('DEFERRED', '2026-03-10'), charge_id: null, transaction_date: '2026-03-10', next_ask_on: '2026-03-11' }),
      chargeState('final', { ...ASKED, next_ask_on: '2026-03-16' }),
    ])
    .execute();
  await database.db
    .insertInto('findings')
    .values([
      finding('edge8', 'MDR_MISMATCH', { field: 'orig_mdr', transaction_date: '2026-02-25', first_seen_on: '2026-02-26' }),
      // A charge no run keeps a state for: no amount, currency or asking dates.
      finding('orphan', 'ORPHAN_LEDGER_ENTRY', { entry_id: 'E-9', transaction_date: '2026-03-08', first_seen_on: '2026-03-09', message: 'รายการในบัญชีไม่มีที่เกตเวย์' }),
      finding('pend', 'SETTLEMENT_PENDING', { severity: 'warning' }),
      finding('sent', 'AMOUNT_MISMATCH', { resolved_on: '2026-03-10', resolved_run_id: '00000000-0000-4000-8000-000000000002' }),
      finding('pend', 'VAT_MISMATCH', { field: 'orig_vat', ledger_value: '7.50', gateway_value: '7.00' }),
      finding('pend', 'MDR_MISMATCH', { field: 'orig_mdr', ledger_value: '30.00', gateway_value: '31.00' }),
      finding('pend', 'NET_MISMATCH', { field: 'net_amount' }),
      // First seen on the as-of day itself (a run of that day): age -1, in the youngest bucket.
      finding('deferred', 'DUPLICATE_IN_LEDGER', { charge_id: null, entry_id: 'E-d2', transaction_date: '2026-03-10', first_seen_on: '2026-03-11' }),
    ])
    .execute();
  const ack = (code: string, field: string, values: { ledger_value: string | null; gateway_value: string | null }) => ({
    charge_key: 'pend', code, field, entry_id: '', ...values, note: 'KBank credit note 123', acked_by: 'somchai',
  });
  await database.db
    .insertInto('finding_acknowledgements')
    .values([
      ack('VAT_MISMATCH', 'orig_vat', { ledger_value: '7.50', gateway_value: '7.00' }), // holds: not listed
      ack('MDR_MISMATCH', 'orig_mdr', { ledger_value: '30.00', gateway_value: '25.00' }), // given on other values: listed
      ack('NET_MISMATCH', 'net_amount', { ledger_value: null, gateway_value: null }),
    ])
    .execute();
  await database.db.updateTable('finding_acknowledgements').set({ undone_at: new Date(), undone_by: 'somchai' }).where('code', '=', 'NET_MISMATCH').execute();
  // The open charge's own warning, acknowledged: the charge stays listed, with who and the note.
  await database.db
    .insertInto('finding_acknowledgements')
    .values({ charge_key: 'pend', code: 'SETTLEMENT_PENDING', field: '', entry_id: '', ledger_value: null, gateway_value: null, note: 'KBank settles on the 12th', acked_by: 'nok' })
    .execute();
  await finishedRun(database.db, AS_OF);
});

const HEADER = 'charge_id,reference_order,transaction_date,source_type,currency,amount,kind,code,reason,open_since,age_days,age_bucket,last_asked_at,next_ask_on,acknowledged_by,ack_note';
const ROWS = [
  'stale1,ORD-stale1,2026-01-05,card,THB,250.00,stale,INQUIRY_FAILED,the gateway did not answer: timeout,2026-01-05,64,31+,2026-03-10T19:31:02Z,,,',
  'edge60,ORD-edge60,2026-01-09,card,THB,100.00,open_charge,REFUND_PENDING,refund booked 2026-03-07 not at the gateway yet,2026-01-09,60,31+,2026-03-10T19:30:00Z,2026-03-11,,',
  'edge8,ORD-edge8,2026-02-25,card,THB,100.00,finding,MDR_MISMATCH,MDR_MISMATCH on edge8,2026-02-26,12,8-30,2026-03-10T19:30:00Z,2026-03-11,,',
  'edge8,ORD-edge8,2026-02-25,card,THB,100.00,open_charge,FEES_NOT_REPORTED,fee figures not reported yet,2026-03-02,8,8-30,2026-03-10T19:30:00Z,2026-03-11,,',
  `sent,"'=HYPERLINK(""http://x"")",2026-03-01,card,THB,100.00,open_charge,,the gateway's state is Refund Sent: the refund may still fail,2026-03-04,6,2-7,2026-03-10T19:30:00Z,2026-03-11,,`,
  'orphan,ORD-orphan,2026-03-08,card,,,finding,ORPHAN_LEDGER_ENTRY,รายการในบัญชีไม่มีที่เกตเวย์,2026-03-09,1,0-1,,,,',
  'pend,ORD-pend,2026-03-09,card,THB,1070.50,open_charge,SETTLEMENT_PENDING,"captured, not settled yet",2026-03-09,1,0-1,2026-03-10T19:30:00Z,2026-03-11,nok,KBank settles on the 12th',
  'pend,ORD-pend,2026-03-09,card,THB,1070.50,finding,MDR_MISMATCH,MDR_MISMATCH on pend,2026-03-10,0,0-1,2026-03-10T19:30:00Z,2026-03-11,,',
  'pend,ORD-pend,2026-03-09,card,THB,1070.50,finding,NET_MISMATCH,NET_MISMATCH on pend,2026-03-10,0,0-1,2026-03-10T19:30:00Z,2026-03-11,,',
  ",ORD-deferred,2026-03-10,card,THB,100.00,open_charge,,due but not asked yet: the night's request budget ran out,2026-03-10,0,0-1,,2026-03-11,,",
  ',ORD-deferred,2026-03-10,card,THB,100.00,finding,DUPLICATE_IN_LEDGER,DUPLICATE_IN_LEDGER on deferred,2026-03-11,-1,0-1,,2026-03-11,,',
];
const CSV = `${[HEADER, ...ROWS].join('\n')}\n`;

const cli = (...args: string[]) => runCliInProcess(['open-items', ...args], { env: { DATABASE_URL: database.url, LOG_LEVEL: 'silent', RECON_OPEN_MAX_DAYS: '60' } });

describe('open items (open charges, unresolved unacknowledged error findings)', () => {
  it('writes every open charge and error finding with its kind, code, reason, age and bucket, oldest first, as UTF-8 with a BOM', async () => {
    const file = join(dir, 'open-items.csv');
    const totals = await writeOpenItemsCsv(database.db, file, SCOPE);
    const bytes = await readFile(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe(CSV);
    expect(totals).toEqual({
      total: 11,
      byBucket: { '0-1': 6, '2-7': 1, '8-30': 2, '31+': 2 },
      byKind: { open_charge: 5, finding: 5, stale: 1 },
    });
  });

  it('streams the same rows, as text', async () => {
    const rows: OpenItemRow[] = [];
    for await (const row of openItems(database.db, SCOPE)) rows.push(row);
    expect(rows.map((r) => `${r.kind} ${r.charge_id || r.reference_order} ${r.code}`)).toEqual([
      'stale stale1 INQUIRY_FAILED', 'open_charge edge60 REFUND_PENDING', 'finding edge8 MDR_MISMATCH', 'open_charge edge8 FEES_NOT_REPORTED',
      'open_charge sent ', 'finding orphan ORPHAN_LEDGER_ENTRY', 'open_charge pend SETTLEMENT_PENDING', 'finding pend MDR_MISMATCH',
      'finding pend NET_MISMATCH', 'open_charge ORD-deferred ', 'finding ORD-deferred DUPLICATE_IN_LEDGER',
    ]);
    expect(rows[1]).toEqual({
      charge_id: 'edge60', reference_order: 'ORD-edge60', transaction_date: '2026-01-09', source_type: 'card', currency: 'THB', amount: '100.00',
      kind: 'open_charge', code: 'REFUND_PENDING', reason: 'refund booked 2026-03-07 not at the gateway yet', open_since: '2026-01-09',
      age_days: '60', age_bucket: '31+', last_asked_at: '2026-03-10T19:30:00Z', next_ask_on: '2026-03-11', acknowledged_by: '', ack_note: '',
    });
  });

  it('a lower RECON_OPEN_MAX_DAYS makes more charges stale; a later as-of day ages every row', async () => {
    const rows: OpenItemRow[] = [];
    for await (const row of openItems(database.db, { asOf: '2026-03-21', openMaxDays: 10 })) rows.push(row);
    expect(rows.filter((r) => r.kind === 'stale').map((r) => r.charge_id)).toEqual(['stale1', 'edge60', 'edge8', 'sent', 'pend']);
    expect(rows.filter((r) => r.kind === 'stale').every((r) => r.next_ask_on === '')).toBe(true);
    expect(rows.map((r) => r.age_bucket)).toEqual(['31+', '31+', '8-30', '8-30', '8-30', '8-30', '8-30', '8-30', '8-30', '8-30', '8-30']);
  });

  it('open-items --out writes the file and prints its totals; without --out the CSV goes to stdout without a BOM', async () => {
    const file = join(dir, 'by-command.csv');
    const written = await cli('--as-of', AS_OF, '--out', file);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toBe(`11 open items (0-1: 6, 2-7: 1, 8-30: 2, 31+: 2; stale 1) → ${file}\n`);
    expect((await readFile(file, 'utf8'))).toBe(`\ufeff${CSV}`);
    const piped = await cli('--as-of', AS_OF);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(CSV);
  });

  it('refuses an as-of day before the latest finished run\'s, in one line, exit 2', async () => {
    const result = await cli('--as-of', '2026-03-10');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      "kpgw-recon: open-items: --as-of 2026-03-10 is before 2026-03-11, the as-of day of the latest finished run; the state of an earlier day is not kept (each run's own open-items.csv is)\n",
    );
    expect((await cli('--as-of', '2026-3-1')).stderr).toBe("kpgw-recon: open-items: --as-of '2026-3-1' is not a date (YYYY-MM-DD)\n");
  });
});

describe('open items, many', () => {
  it('pages through thousands of rows in one order, byte-wise by charge key, each row once', async () => {
    // Mixed case keys: byte order puts 'B…' before 'a…', where a language collation would not.
    const keys = Array.from({ length: 6_000 }, (_, i) => `${i % 2 ? 'B' : 'a'}${String(i).padStart(5, '0')}`);
    const since = ['2026-03-08', '2026-03-09', '2026-03-10'];
    for (let at = 0; at < keys.length; at += 1000) {
      await many.db
        .insertInto('charge_state')
        .values(keys.slice(at, at + 1000).map((key, i) => chargeState(key, { open: true, open_reason: 'SETTLEMENT_PENDING', open_since: since[(at + i) % 3]! })))
        .execute();
    }
    await many.db.insertInto('findings').values(keys.slice(0, 600).map((key) => finding(key, 'AMOUNT_MISMATCH', { first_seen_on: '2026-03-09' }))).execute();
    const seen: string[] = [];
    for await (const row of openItems(many.db, SCOPE)) seen.push(`${row.open_since} ${row.charge_id} ${row.kind}`);
    const expected = [
      ...keys.map((key, i) => `${since[i % 3]} ${key} open_charge`),
      ...keys.slice(0, 600).map((key) => `2026-03-09 ${key} finding`),
    ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(seen).toEqual(expected);
  });
});
