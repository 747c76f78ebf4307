import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openItems } from '../../src/followup/open-items.ts';
import { runCliInProcess } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { chargeState, finding } from './rows.ts';

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-ack-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const GUARDED_REF = '=HYPERLINK("http://x")';

beforeAll(async () => {
  await database.db
    .insertInto('findings')
    .values([
      finding('chrg_one', 'MDR_MISMATCH', { field: 'orig_mdr', ledger_value: '30.00', gateway_value: '31.00' }),
      finding('chrg_one', 'VAT_MISMATCH', { field: 'orig_vat', ledger_value: '2.10', gateway_value: '2.17' }),
      finding('chrg_dup', 'DUPLICATE_IN_LEDGER', { entry_id: 'E-dup-a' }),
      finding('chrg_dup', 'DUPLICATE_IN_LEDGER', { entry_id: 'E-dup-b' }),
      finding('chrg_gone', 'AMOUNT_MISMATCH', { field: 'amount', resolved_on: '2026-03-10', resolved_run_id: '00000000-0000-4000-8000-000000000002' }),
      // For the file: one finding per row, on the ledger row its mismatches.csv line names.
      finding('chrg_f1', 'MDR_MISMATCH', { entry_id: 'E-f1', field: 'orig_mdr', ledger_value: '30.00', gateway_value: '31.00' }),
      finding('chrg_f1', 'VAT_MISMATCH', { entry_id: 'E-f1', field: 'orig_vat', ledger_value: '2.10', gateway_value: '2.17' }),
      finding('ORD-f2', 'AMOUNT_MISMATCH', { entry_id: 'E-f2', charge_id: null, reference_order: GUARDED_REF, field: 'amount', ledger_value: '100.00', gateway_value: '90.00' }),
      finding('chrg_f3', 'DUPLICATE_IN_LEDGER', { entry_id: 'E-f3a' }),
      finding('chrg_f3', 'DUPLICATE_IN_LEDGER', { entry_id: 'E-f3b' }),
      finding('chrg_g1', 'MDR_MISMATCH', { field: 'orig_mdr' }),
      finding('chrg_g1', 'VAT_MISMATCH', { field: 'orig_vat' }),
      finding('chrg_th', 'NET_MISMATCH', { field: 'net_amount' }),
      finding('chrg_re', 'SETTLE_AMOUNT_MISMATCH', { field: 'settle_amount', ledger_value: '100.00', gateway_value: '98.00' }),
    ])
    .execute();
  await database.db.insertInto('charge_state').values(chargeState('chrg_re', { transaction_date: '2026-03-09' })).execute();
});

const cli = (...args: string[]) => runCliInProcess(['ack', ...args], { env: { DATABASE_URL: database.url, LOG_LEVEL: 'silent' } });

async function acksOf(chargeKey: string) {
  return database.db
    .selectFrom('finding_acknowledgements')
    .select(['code', 'field', 'entry_id', 'ledger_value', 'gateway_value', 'note', 'acked_by', 'undone_by'])
    .select((eb) => eb('undone_at', 'is not', null).as('undone'))
    .where('charge_key', '=', chargeKey)
    .orderBy('id')
    .execute();
}

async function allAcks(): Promise<number> {
  const { count } = await database.db.selectFrom('finding_acknowledgements').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(count);
}

async function listed(chargeKey: string): Promise<string[]> {
  const codes: string[] = [];
  for await (const row of openItems(database.db, { asOf: '2026-03-11', openMaxDays: 60 })) if (row.charge_id === chargeKey) codes.push(row.code);
  return codes;
}

describe('ack one finding', () => {
  it('records who, the note and the values it was given on; the finding leaves open-items', async () => {
    expect(await listed('chrg_one')).toEqual(['MDR_MISMATCH', 'VAT_MISMATCH']);
    const result = await cli('--charge', 'chrg_one', '--code', 'MDR_MISMATCH', '--note', 'KBank credit note 123', '--by', 'somchai');
    expect(result).toEqual({ code: 0, stdout: 'acknowledged 1 finding\n', stderr: '' });
    // By reference order, and by the operating-system user when --by is not given.
    expect((await cli('--charge', 'ORD-chrg_one', '--code', 'VAT_MISMATCH', '--note', 'rounding, agreed with KBank')).stdout).toBe('acknowledged 1 finding\n');
    expect(await acksOf('chrg_one')).toEqual([
      { code: 'MDR_MISMATCH', field: 'orig_mdr', entry_id: '', ledger_value: '30.00', gateway_value: '31.00', note: 'KBank credit note 123', acked_by: 'somchai', undone_by: null, undone: false },
      { code: 'VAT_MISMATCH', field: 'orig_vat', entry_id: '', ledger_value: '2.10', gateway_value: '2.17', note: 'rounding, agreed with KBank', acked_by: userInfo().username, undone_by: null, undone: false },
    ]);
    expect(await listed('chrg_one')).toEqual([]);
  });

  it('--entry names one of a charge\'s findings with the same code; without it, every one is acknowledged, each once', async () => {
    expect((await cli('--charge', 'chrg_dup', '--code', 'DUPLICATE_IN_LEDGER', '--entry', 'E-dup-a', '--note', 'reversed')).stdout).toBe('acknowledged 1 finding\n');
    expect((await acksOf('chrg_dup')).map((a) => a.entry_id)).toEqual(['E-dup-a']);
    expect((await cli('--charge', 'chrg_dup', '--code', 'DUPLICATE_IN_LEDGER', '--note', 'both reversed', '--by', 'nok')).stdout)
      .toBe('acknowledged 2 findings (1 replacing an earlier acknowledgement)\n');
    // E-dup-a's first acknowledgement is recorded as undone by whoever acknowledged it again.
    expect((await acksOf('chrg_dup')).map((a) => `${a.entry_id} ${a.note} ${a.undone_by ?? 'active'}`))
      .toEqual(['E-dup-a reversed nok', 'E-dup-a both reversed active', 'E-dup-b both reversed active']);
  });

  it('refuses a finding that is resolved or unknown, in one line, exit 2, and a missing note', async () => {
    const before = await allAcks();
    expect(await cli('--charge', 'chrg_gone', '--code', 'AMOUNT_MISMATCH', '--field', 'amount', '--note', 'x')).toEqual({
      code: 2, stdout: '', stderr: 'kpgw-recon: ack: no open finding for charge chrg_gone code AMOUNT_MISMATCH field amount\n',
    });
    expect((await cli('--charge', 'chrg_one', '--code', 'MDR_MISMATCH')).stderr).toBe('kpgw-recon: ack: --note is required (see kpgw-recon ack --help)\n');
    expect((await cli('--file', 'x.csv', '--charge', 'chrg_one')).stderr).toBe('kpgw-recon: ack: --file takes the findings from the file; --charge is not used with it (see kpgw-recon ack --help)\n');
    expect(await allAcks()).toBe(before);
  });
});

/** mismatches.csv as a run writes it, with a `note` column a clerk added in Excel: CRLF, BOM, formula guard kept. */
const MISMATCHES_HEADER = 'run_id,transaction_date,source_type,charge_id,reference_order,entry_id,code,severity,field,ledger_value,gateway_value,difference,message,finding_state,first_seen_on,acknowledged_by,ack_note,note';
const EDITED = [
  MISMATCHES_HEADER,
  'R1,2026-03-09,card,chrg_f1,ORD-f1,E-f1,MDR_MISMATCH,error,orig_mdr,30.00,31.00,1.00,MDR differs,new,2026-03-10,,,KBank credit note 123',
  'R1,2026-03-09,card,chrg_f1,ORD-f1,E-f1,VAT_MISMATCH,error,orig_vat,2.10,2.17,0.07,VAT differs,new,2026-03-10,,,',
  `R1,2026-03-09,card,,"'${GUARDED_REF.replaceAll('"', '""')}",E-f2,AMOUNT_MISMATCH,error,amount,100.00,90.00,-10.00,amount differs,new,2026-03-10,,,ลูกค้าได้รับส่วนลด`,
  'R1,2026-03-09,card,chrg_f3,ORD-f3,E-f3a,DUPLICATE_IN_LEDGER,error,,,,,"duplicate row, see E-f3b",new,2026-03-10,,,"booked twice, reversed on 12 March"',
  ',,,,,,,,,,,,,,,,,',
];

describe('ack --file', () => {
  it('loads an edited mismatches.csv (BOM, CRLF, a guarded reference): exactly the rows with a note', async () => {
    const file = join(dir, 'mismatches-noted.csv');
    await writeFile(file, `\ufeff${EDITED.join('\r\n')}\r\n`);
    expect(await cli('--file', file, '--by', 'nok')).toEqual({ code: 0, stdout: 'acknowledged 3 findings\n', stderr: '' });
    expect(await acksOf('chrg_f1')).toEqual([
      { code: 'MDR_MISMATCH', field: 'orig_mdr', entry_id: 'E-f1', ledger_value: '30.00', gateway_value: '31.00', note: 'KBank credit note 123', acked_by: 'nok', undone_by: null, undone: false },
    ]);
    expect((await acksOf('ORD-f2')).map((a) => `${a.code} ${a.gateway_value} ${a.note}`)).toEqual(['AMOUNT_MISMATCH 90.00 ลูกค้าได้รับส่วนลด']);
    expect((await acksOf('chrg_f3')).map((a) => `${a.entry_id} ${a.note}`)).toEqual(['E-f3a booked twice, reversed on 12 March']);
  });

  it('applies nothing when a noted row names no open finding, listing every such line, exit 2', async () => {
    const file = join(dir, 'typo.csv');
    await writeFile(file, [
      'charge_id,code,field,note',
      'chrg_g1,MDR_MISMATCH,orig_mdr,known',
      'chrg_nope,AMOUNT_MISMATCH,,typo in the charge',
      'chrg_g1,VAT_MISMATCH,orig_mdr,wrong field',
      'chrg_nope,AMOUNT_MISMATCH,,',
      ',MDR_MISMATCH,,no charge',
    ].join('\n'));
    const before = await allAcks();
    expect(await cli('--file', file)).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        `${file}:3: no open finding for charge chrg_nope code AMOUNT_MISMATCH`,
        `${file}:4: no open finding for charge chrg_g1 code VAT_MISMATCH field orig_mdr`,
        `${file}:6: no charge (charge_id and reference_order are empty)`,
        `kpgw-recon: ack: ${file}: nothing was applied: 3 lines cannot be used (listed above)`,
        '',
      ].join('\n'),
    });
    expect(await allAcks()).toBe(before);
    expect(await acksOf('chrg_g1')).toEqual([]);
  });

  it('refuses a file without the columns it needs, in one line', async () => {
    const file = join(dir, 'no-note.csv');
    await writeFile(file, 'charge_id,code\nchrg_g1,MDR_MISMATCH\n');
    expect(await cli('--file', file)).toEqual({
      code: 2, stdout: '', stderr: `kpgw-recon: ${file}: the header has no note column (expected at least charge_id, code and note or ack_note)\n`,
    });
  });

  it('reads a file Excel saved as plain CSV on Thai Windows (Windows-874), with a by column', async () => {
    const file = join(dir, 'thai.csv');
    await writeFile(file, iconv.encode('charge_id,code,note,by\r\nchrg_th,NET_MISMATCH,ยอดสุทธิตรงกับใบลดหนี้,สมชาย\r\n', 'windows-874'));
    expect((await cli('--file', file)).stdout).toBe('acknowledged 1 finding\n');
    expect((await acksOf('chrg_th')).map((a) => `${a.note} ${a.acked_by}`)).toEqual(['ยอดสุทธิตรงกับใบลดหนี้ สมชาย']);
  });
});

describe('ack --undo, and the audit trail', () => {
  it('takes an acknowledgement back: the row stays, marked undone; the finding is open again', async () => {
    expect(await listed('chrg_one')).toEqual([]);
    expect(await cli('--undo', '--charge', 'chrg_one', '--code', 'MDR_MISMATCH', '--by', 'somchai')).toEqual({ code: 0, stdout: 'undid 1 acknowledgement\n', stderr: '' });
    expect((await acksOf('chrg_one')).map((a) => `${a.code} ${a.undone} ${a.undone_by}`)).toEqual(['MDR_MISMATCH true somchai', 'VAT_MISMATCH false null']);
    expect(await listed('chrg_one')).toEqual(['MDR_MISMATCH']);
    // Nothing acknowledged left to undo: one line, exit 2.
    expect(await cli('--undo', '--charge', 'chrg_one', '--code', 'MDR_MISMATCH')).toEqual({
      code: 2, stdout: '', stderr: 'kpgw-recon: ack: no acknowledged finding for charge chrg_one code MDR_MISMATCH\n',
    });
  });

  it('--undo --file takes back what acknowledging the same file did', async () => {
    const file = join(dir, 'mismatches-noted.csv');
    expect((await cli('--undo', '--file', file)).stdout).toBe('undid 3 acknowledgements\n');
    expect((await acksOf('chrg_f1')).map((a) => a.undone)).toEqual([true]);
    expect(await listed('chrg_f1')).toEqual(['MDR_MISMATCH', 'VAT_MISMATCH']);
  });

  it('the table refuses a delete, a second undo, and any other change', async () => {
    const [undone] = await database.db.selectFrom('finding_acknowledgements').select('id').where('undone_at', 'is not', null).limit(1).execute();
    const [active] = await database.db.selectFrom('finding_acknowledgements').select('id').where('undone_at', 'is', null).limit(1).execute();
    await expect(database.db.deleteFrom('finding_acknowledgements').where('id', '=', active!.id).execute()).rejects.toThrow(/audit trail: rows are never deleted/);
    await expect(database.db.updateTable('finding_acknowledgements').set({ undone_at: new Date(), undone_by: 'mallory' }).where('id', '=', undone!.id).execute())
      .rejects.toThrow(/only undoing an acknowledgement, once, is recorded/);
    await expect(database.db.updateTable('finding_acknowledgements').set({ note: 'rewritten' }).where('id', '=', active!.id).execute())
      .rejects.toThrow(/only undoing an acknowledgement, once, is recorded/);
  });

  it('a finding whose values change is open again, and is acknowledged anew on its new values', async () => {
    expect((await cli('--charge', 'chrg_re', '--code', 'SETTLE_AMOUNT_MISMATCH', '--note', 'fee dispute 7', '--by', 'nok')).stdout).toBe('acknowledged 1 finding\n');
    expect(await listed('chrg_re')).toEqual([]);
    // A later run finds a different settled amount.
    await database.db.updateTable('findings').set({ gateway_value: '97.00' }).where('charge_key', '=', 'chrg_re').execute();
    expect(await listed('chrg_re')).toEqual(['SETTLE_AMOUNT_MISMATCH']);
    expect((await cli('--charge', 'chrg_re', '--code', 'SETTLE_AMOUNT_MISMATCH', '--note', 'fee dispute 7, second correction', '--by', 'nok')).stdout)
      .toBe('acknowledged 1 finding (1 replacing an earlier acknowledgement)\n');
    expect(await listed('chrg_re')).toEqual([]);
    // One acknowledgement at a time: the one given on the old values is recorded as undone.
    expect((await acksOf('chrg_re')).map((a) => `${a.gateway_value} ${a.note} ${a.undone}`)).toEqual([
      '98.00 fee dispute 7 true',
      '97.00 fee dispute 7, second correction false',
    ]);
  });
});
