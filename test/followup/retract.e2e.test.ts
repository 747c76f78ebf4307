import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { todayIn } from '../../src/dates.ts';
import { RUN_LOCK } from '../../src/run/run-record.ts';
import { buildCharge, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { CLI_TEST_TIMEOUT_MS, openBooks, type Books } from '../helpers/books.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * `retract`: ledger rows booked by mistake taken out of reconciliation, with an audit trail.
 * The books, on 2026-05-04, looked at as of 2026-05-09 (past the 3 grace days for refunds):
 * - sofa, 1,000.00, settled at KBank; the ledger also books a refund of 400.00 by mistake, so a
 *   run finds REFUND_MISSING_AT_GATEWAY on that row and STATE_MISMATCH on the charge (the ledger
 *   expects Partial Refund: 0 < 400.00 < 1,000.00; KBank says Settled);
 * - lamp, 250.00, captured and never settled: SETTLEMENT_PENDING (a warning), an open charge.
 */
const database = await createTestDatabase();
const D = '2026-05-04';
const AS_OF = '2026-05-09';
const TZ = 'Asia/Bangkok';

const sofa = buildCharge({ key: 'sofa', date: D, amount: '1000.00' });
const mistake: LedgerRow = { ...sofa.ledger[0], entry_id: 'E-sofa-R1', entry_type: 'refund', entry_date: D, amount: '400.00' };
const lamp = buildCharge({ key: 'lamp', date: D, amount: '250.00' });
Object.assign(lamp.gateway, { transaction_state: 'Captured', settlement_info: null });

let books: Books;
let ledger: string;
beforeAll(async () => {
  books = await openBooks(database, [sofa.gateway, lamp.gateway]);
  ledger = await books.write('ledger.csv', ledgerCsv([...sofa.ledger, mistake, ...lamp.ledger]));
});
afterAll(() => books?.close());

const run = (name: string) => books.run(name, ledger, { from: D, asOf: AS_OF });
const retract = (...args: string[]) => books.cli(['retract', ...args]);
const found = (rows: Record<string, string>[]) => rows.map((r) => `${r.code} ${r.entry_id} ${r.finding_state}`).sort();
const findingsOf = (entryId: string) =>
  database.db.selectFrom('findings').select(['code', 'resolved_reason', 'resolved_run_id']).select((eb) => eb('resolved_on', 'is not', null).as('resolved'))
    .where('entry_id', '=', entryId).orderBy('code').execute();
const stateOf = (key: string) => database.db.selectFrom('charge_state').select(['open', 'open_reason', 'next_ask_on']).where('charge_key', '=', key).executeTakeFirstOrThrow();
/** The charges a run asked the gateway about. */
const askedBy = async (runId: string) =>
  (await database.db.selectFrom('gateway_inquiries').select('charge_key').where('run_id', '=', runId).orderBy('charge_key').execute()).map((r) => r.charge_key);
const openItems = async () => {
  const result = await books.cli(['open-items', '--as-of', AS_OF]);
  expect(result.code).toBe(0);
  return result.stdout.trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 8).join(','));
};
const activeRetractions = async () =>
  (await database.db.selectFrom('ledger_retractions').select('entry_id').where('undone_at', 'is', null).orderBy('entry_id').execute()).map((r) => r.entry_id);

describe('retract a ledger row booked by mistake', () => {
  it('resolves its finding as retracted; ingesting the file again does not bring it back; --undo does', async () => {
    const first = await run('run-1');
    expect(first.result.code).toBe(1);
    expect(found(await first.csv('mismatches.csv'))).toEqual([
      'REFUND_MISSING_AT_GATEWAY E-sofa-R1 new', 'SETTLEMENT_PENDING E-lamp new', 'STATE_MISMATCH E-sofa new',
    ]);

    const reason = 'booked twice by the till; reversed in JV-118';
    expect(await retract('--entry-id', 'E-sofa-R1', '--reason', reason, '--by', 'somchai')).toMatchObject({
      code: 0, stdout: 'retracted 1 ledger row; 1 finding resolved as retracted\n',
    });
    expect(await findingsOf('E-sofa-R1')).toEqual([{ code: 'REFUND_MISSING_AT_GATEWAY', resolved_reason: 'retracted', resolved_run_id: null, resolved: true }]);
    expect(await database.db.selectFrom('ledger_retractions').select(['entry_id', 'reason', 'retracted_by', 'undone_by']).execute())
      .toEqual([{ entry_id: 'E-sofa-R1', reason, retracted_by: 'somchai', undone_by: null }]);

    // The same file again: the row is still stored, still out. Without it the charge matches:
    // nothing refunded, Settled as expected. Exit 0, the warning apart.
    const second = await run('run-2');
    expect(second.result.code).toBe(0);
    expect(found(await second.csv('mismatches.csv'))).toEqual(['SETTLEMENT_PENDING E-lamp still_open']);
    expect((await second.csv('resolved.csv')).map((r) => `${r.code} ${r.entry_id}`)).toEqual(['STATE_MISMATCH E-sofa']);
    expect(await findingsOf('E-sofa-R1')).toEqual([{ code: 'REFUND_MISSING_AT_GATEWAY', resolved_reason: 'retracted', resolved_run_id: null, resolved: true }]);
    expect(await database.db.selectFrom('ledger_entries').select('amount').where('entry_id', '=', 'E-sofa-R1').executeTakeFirst()).toEqual({ amount: '400.00' });

    expect(await retract('--undo', '--entry-id', 'E-sofa-R1', '--by', 'nok')).toMatchObject({
      code: 0, stdout: 'E-sofa-R1 is back: the next nightly, or the next run over 2026-05-04, reconciles it again\n',
    });
    expect(await database.db.selectFrom('ledger_retractions').select(['entry_id', 'undone_by']).execute()).toEqual([{ entry_id: 'E-sofa-R1', undone_by: 'nok' }]);
    const third = await run('run-3');
    expect(third.result.code).toBe(1);
    expect(found(await third.csv('mismatches.csv'))).toEqual([
      'REFUND_MISSING_AT_GATEWAY E-sofa-R1 new', 'SETTLEMENT_PENDING E-lamp still_open', 'STATE_MISMATCH E-sofa new',
    ]);
  }, CLI_TEST_TIMEOUT_MS);

  it('a charge row retracted leaves the open items and is asked no more; --undo makes it due again', async () => {
    expect(await openItems()).toContain('chrg_test_lamp,ORD-lamp,2026-05-04,card,THB,250.00,open_charge,SETTLEMENT_PENDING');
    const file = await books.write('retract.csv', 'entry_id,reason,by\r\nE-lamp,"test order, never shipped",nok\r\n');
    expect(await retract('--file', file)).toMatchObject({ code: 0, stdout: 'retracted 1 ledger row; 1 finding resolved as retracted\n' });
    expect(await stateOf('chrg_test_lamp')).toEqual({ open: false, open_reason: null, next_ask_on: null });
    expect((await openItems()).filter((row) => row.includes('lamp'))).toEqual([]);

    const fourth = await run('run-4');
    expect(await askedBy(fourth.runId)).toEqual(['chrg_test_sofa']);
    expect(found(await fourth.csv('mismatches.csv')).filter((f) => f.includes('lamp'))).toEqual([]);

    const before = todayIn(TZ);
    expect((await retract('--undo', '--entry-id', 'E-lamp')).code).toBe(0);
    const after = todayIn(TZ);
    // Due from today (in RECON_TZ), so tonight's nightly asks it again.
    const { next_ask_on: due } = await stateOf('chrg_test_lamp');
    expect([before, after]).toContain(due);
    const fifth = await run('run-5');
    expect(await askedBy(fifth.runId)).toEqual(['chrg_test_lamp', 'chrg_test_sofa']);
    expect(found(await fifth.csv('mismatches.csv')).filter((f) => f.includes('lamp'))).toEqual(['SETTLEMENT_PENDING E-lamp new']);
  }, CLI_TEST_TIMEOUT_MS);

  it('refuses an unknown row, one already retracted, and undoing one not retracted, in one line, exit 2', async () => {
    expect(await retract('--entry-id', 'E-nope', '--reason', 'typo')).toMatchObject({ code: 2, stdout: '', stderr: 'kpgw-recon: retract: no ledger row E-nope\n' });
    expect((await retract('--entry-id', 'E-sofa-R1', '--reason', 'booked twice', '--by', 'somchai')).code).toBe(0);
    const again = await retract('--entry-id', 'E-sofa-R1', '--reason', 'again');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^kpgw-recon: retract: E-sofa-R1 is already retracted \(by somchai on \d{4}-\d{2}-\d{2}: booked twice\)\n$/);
    expect(await retract('--undo', '--entry-id', 'E-sofa')).toMatchObject({ code: 2, stdout: '', stderr: 'kpgw-recon: retract: E-sofa is not retracted\n' });
    expect(await retract('--entry-id', 'E-sofa', '--reason', '')).toMatchObject({ code: 2, stderr: 'kpgw-recon: retract: --reason is empty (see kpgw-recon retract --help)\n' });
    expect(await activeRetractions()).toEqual(['E-sofa-R1']);
  }, CLI_TEST_TIMEOUT_MS);

  it('a file is all or nothing: every bad line listed (a NUL in a reason too), nothing applied, exit 2', async () => {
    const file = await books.write('retract-bad.csv', Buffer.from([
      'entry_id,reason',
      'E-lamp,shipped twice',
      'E-nope,typo in the id',
      'E-sofa-R1,again',
      ',no id',
      'E-lamp,named twice',
      'E-sofa,a NUL \u0000 here',
      'E-sofa,',
      '',
    ].join('\n')));
    const result = await retract('--file', file);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr.split('\n')).toEqual([
      `${file}:3: no ledger row E-nope`,
      expect.stringMatching(new RegExp(`^${file}:4: E-sofa-R1 is already retracted \\(by somchai on \\d{4}-\\d{2}-\\d{2}: booked twice\\)$`)),
      `${file}:5: no entry_id`,
      `${file}:6: E-lamp is named twice (first on line 2)`,
      `${file}:7: reason contains a control character (NUL)`,
      `${file}:8: no reason`,
      `kpgw-recon: retract: ${file}: nothing was applied: 6 lines cannot be used (listed above)`,
      '',
    ]);
    expect(await activeRetractions()).toEqual(['E-sofa-R1']);
  }, CLI_TEST_TIMEOUT_MS);

  it('waits for no run: while a run of the merchant holds its lock, exit 3 naming the run, nothing applied', async () => {
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [RUN_LOCK]);
      const runId = randomUUID();
      const started = new Date('2026-05-09T19:30:00Z');
      await database.db.insertInto('recon_runs').values({
        run_id: runId, kind: 'nightly', from_date: '2026-05-08', to_date: '2026-05-08', as_of: '2026-05-09', status: 'running',
        params_key: 'held by the test', pid: 4242, host: 'elsewhere', started_at: started,
      }).execute();
      expect(await retract('--entry-id', 'E-sofa', '--reason', 'x')).toMatchObject({
        code: 3,
        stdout: '',
        stderr: `kpgw-recon: retract: run ${runId} (nightly 2026-05-08..2026-05-08, pid 4242 on elsewhere, started 2026-05-09T19:30:00.000Z) is in progress; try again when it has finished\n`,
      });
      expect(await activeRetractions()).toEqual(['E-sofa-R1']);
      await database.db.updateTable('recon_runs').set({ status: 'aborted' }).where('run_id', '=', runId).execute();
    } finally {
      await holder.end();
    }
  }, CLI_TEST_TIMEOUT_MS);

  it('the trail is append-only: no delete, no rewrite, an undo recorded once', async () => {
    const [undone] = await database.db.selectFrom('ledger_retractions').select('id').where('undone_at', 'is not', null).limit(1).execute();
    const [active] = await database.db.selectFrom('ledger_retractions').select('id').where('undone_at', 'is', null).limit(1).execute();
    await expect(database.db.deleteFrom('ledger_retractions').where('id', '=', active!.id).execute()).rejects.toThrow(/audit trail: rows are never deleted/);
    await expect(database.db.updateTable('ledger_retractions').set({ reason: 'rewritten' }).where('id', '=', active!.id).execute())
      .rejects.toThrow(/only undoing a retraction, once, is recorded/);
    await expect(database.db.updateTable('ledger_retractions').set({ undone_at: new Date(), undone_by: 'mallory' }).where('id', '=', undone!.id).execute())
      .rejects.toThrow(/only undoing a retraction, once, is recorded/);
    // At most one active retraction of a row.
    await expect(database.db.insertInto('ledger_retractions').values({ entry_id: 'E-sofa-R1', reason: 'twice', retracted_by: 'mallory', undone_by: null, undone_at: null }).execute())
      .rejects.toThrow(/ledger_retractions_active/);
  });
});
