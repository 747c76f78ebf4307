import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { sql } from 'kysely';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestLedgers } from '../../src/ingest/ledger-ingest.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturingLogger } from './helpers.ts';

/**
 * Issue 10: every row-level problem is a rejected row, whatever the bytes, with file, line and a
 * reason naming the column; the rest of the file goes in. One test per class, CSV inline.
 */

const { db, url } = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-hostile-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeEach(async () => {
  await db.deleteFrom('ledger_entries').execute();
});

const HEADER = 'entry_id,entry_type,reference_order,charge_id,transaction_date,entry_date,source_type,currency,amount,mdr,term,mid,note';
const row = (id: string, over: Partial<Record<'ref' | 'charge' | 'date' | 'entryDate' | 'amount' | 'mdr' | 'term' | 'mid' | 'note', string>> = {}) =>
  [id, 'charge', over.ref ?? `ORD-${id}`, over.charge ?? `chrg_${id}`, over.date ?? '2024-05-01', over.entryDate ?? '', 'card', 'THB', over.amount ?? '10.00', over.mdr ?? '', over.term ?? '', over.mid ?? '', over.note ?? ''].join(',');

let files = 0;
async function ingest(content: string | Buffer) {
  const file = join(dir, `ledger-${++files}.csv`);
  await writeFile(file, content);
  const report = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger });
  return { file, report, rejected: report.rejected.map((r) => [r.line, r.entryId, r.reason]) };
}

async function storedIds(): Promise<string[]> {
  return (await db.selectFrom('ledger_entries').select('entry_id').orderBy('entry_id').execute()).map((r) => r.entry_id);
}

describe('control characters', () => {
  it('a NUL, an escape or DEL in a value rejects the row naming the column; tab, CR and LF in a quoted value are kept', async () => {
    const { report, rejected } = await ingest(
      [
        HEADER,
        row('C1', { ref: 'ORD\0-1' }),
        row('C2', { charge: 'chrg_\x1b[31m' }),
        row('C3', { mid: '4010\x7f' }),
        row('C4', { ref: '"two\tlines\r\nhere"' }),
        row('C5\0', { ref: 'ORD-C5', charge: 'chrg_C5', amount: '1\x0b0.00' }),
        row('C6', { note: 'not stored \0 so not looked at' }),
        row('C7'),
      ].join('\n'),
    );
    expect(rejected).toEqual([
      [2, 'C1', 'reference_order contains a control character (NUL)'],
      [3, 'C2', 'charge_id contains a control character (0x1B)'],
      [4, 'C3', 'mid contains a control character (DEL)'],
      [7, null, 'entry_id contains a control character (NUL); amount contains a control character (0x0B)'],
    ]);
    expect(report).toMatchObject({ rows: 7, inserted: 3 });
    expect(await storedIds()).toEqual(['C4', 'C6', 'C7']);
    const c4 = await db.selectFrom('ledger_entries').select('reference_order').where('entry_id', '=', 'C4').executeTakeFirstOrThrow();
    expect(c4.reference_order).toBe('two\tlines\r\nhere');
    expect(report.rejected[0]!.raw).toBe(row('C1', { ref: 'ORD\0-1' }));
  });
});

describe('over-long values', () => {
  it('a value over 255 characters rejects the row naming the column and the limit; 255 Thai letters go in', async () => {
    const { rejected } = await ingest(
      [
        HEADER,
        row('L'.repeat(256), { ref: 'ORD-L1', charge: 'chrg_L1' }),
        row('L2', { ref: 'r'.repeat(3000) }),
        row('L3', { amount: `${'0'.repeat(300)}1.00` }),
        row('L4', { ref: 'ก'.repeat(255), charge: 'c'.repeat(255) }),
        row('L5', { note: 'n'.repeat(5000) }),
      ].join('\n'),
    );
    expect(rejected).toEqual([
      [2, null, 'entry_id is 256 characters long (at most 255)'],
      [3, 'L2', 'reference_order is 3000 characters long (at most 255)'],
      [4, 'L3', 'amount is 304 characters long (at most 255)'],
    ]);
    expect(await storedIds()).toEqual(['L4', 'L5']);
  });
});

describe('dates and numbers', () => {
  it('a year outside 1900–2200 (after the Buddhist-era conversion) is rejected, never sent to PostgreSQL', async () => {
    const { rejected } = await ingest(
      [
        HEADER,
        row('D1', { date: '0000-05-01' }),
        row('D2', { date: '31/12/2442' }),
        row('D3', { date: '01/01/2443' }),
        row('D4', { date: '2200-12-31' }),
        row('D5', { date: '2024-05-01', entryDate: '2201-01-01' }),
        row('D6', { date: '9999-12-31' }),
        row('D7', { date: '1/1/2744' }),
      ].join('\n'),
    );
    expect(rejected).toEqual([
      [2, 'D1', "transaction_date '0000-05-01' is not between the years 1900 and 2200"],
      [3, 'D2', "transaction_date '31/12/2442' is not between the years 1900 and 2200"],
      [6, 'D5', "entry_date '2201-01-01' is not between the years 1900 and 2200"],
      [7, 'D6', "transaction_date '9999-12-31' is not between the years 1900 and 2200"],
      [8, 'D7', "transaction_date '1/1/2744' is not between the years 1900 and 2200"],
    ]);
    const dates = await db.selectFrom('ledger_entries').select(['entry_id', 'transaction_date']).orderBy('entry_id').execute();
    expect(dates).toEqual([
      { entry_id: 'D3', transaction_date: '1900-01-01' },
      { entry_id: 'D4', transaction_date: '2200-12-31' },
    ]);
  });

  it('no number can overflow its column: numeric(14,2) takes 12 whole digits, term an integer up to 999', async () => {
    const { rejected } = await ingest(
      [
        HEADER,
        row('N1', { amount: '"999,999,999,999.99"', mdr: '-999999999999.99', term: '999' }),
        row('N2', { amount: '1000000000000' }),
        row('N3', { mdr: '-1000000000000.00' }),
        row('N4', { term: '2147483648' }),
        row('N5', { amount: '1e308' }),
        row('N6', { mdr: 'NaN' }),
        row('N7', { term: '1000' }),
      ].join('\n'),
    );
    expect(rejected).toEqual([
      [3, 'N2', "amount '1000000000000' is too large"],
      [4, 'N3', "mdr '-1000000000000.00' is too large"],
      [5, 'N4', "term '2147483648' is too large"],
      [6, 'N5', "amount '1e308' is not a number"],
      [7, 'N6', "mdr 'NaN' is not a number"],
      [8, 'N7', "term '1000' is too large"],
    ]);
    const n1 = await db.selectFrom('ledger_entries').select(['amount', 'mdr', 'term']).where('entry_id', '=', 'N1').executeTakeFirstOrThrow();
    expect(n1).toEqual({ amount: '999999999999.99', mdr: '-999999999999.99', term: 999 });
  });

  it('a value that looks like a formula is stored as it is (report files guard such cells)', async () => {
    await ingest([HEADER, row('F1', { ref: '"=HYPERLINK(""http://x"",""y"")"', mid: ' -1+1 ' }), row('F2', { ref: '@SUM(A1)', charge: '+chrg' })].join('\n'));
    const stored = await db.selectFrom('ledger_entries').select(['entry_id', 'reference_order', 'charge_id', 'mid']).orderBy('entry_id').execute();
    expect(stored).toEqual([
      { entry_id: 'F1', reference_order: '=HYPERLINK("http://x","y")', charge_id: 'chrg_F1', mid: '-1+1' },
      { entry_id: 'F2', reference_order: '@SUM(A1)', charge_id: '+chrg', mid: null },
    ]);
  });
});

describe('a row PostgreSQL refuses all the same (the net under the readers)', () => {
  // a constraint the readers know nothing of stands for whatever PostgreSQL may still refuse
  const refusing = async <T,>(run: () => Promise<T>): Promise<T> => {
    await sql`ALTER TABLE ledger_entries ADD CONSTRAINT test_refuses CHECK (mid IS DISTINCT FROM 'refused')`.execute(db);
    try {
      return await run();
    } finally {
      await sql`ALTER TABLE ledger_entries DROP CONSTRAINT test_refuses`.execute(db);
    }
  };

  it('refused during the COPY: that row is rejected with PostgreSQL\'s reason, the rest of the file goes in', async () => {
    const { rejected, report } = await refusing(() => ingest([HEADER, row('R1'), row('R2', { mid: 'refused' }), row('R3'), row('R4', { mid: 'refused' })].join('\n')));
    const reason = 'PostgreSQL cannot store this row (new row for relation "ledger_entries" violates check constraint "test_refuses")';
    expect(rejected).toEqual([
      [3, 'R2', reason],
      [5, 'R4', reason],
    ]);
    expect(report).toMatchObject({ rows: 4, inserted: 2 });
    expect(await storedIds()).toEqual(['R1', 'R3']);
  });

  it('refused where no row is named: the file is unusable, an INPUT error naming it, nothing of it stored', async () => {
    await ingest([HEADER, row('S0')].join('\n'));
    const file = join(dir, 'refused-upsert.csv');
    await writeFile(file, [HEADER, row('S1'), row('S2', { mid: 'refused' })].join('\n'));
    await refusing(async () => {
      await expect(ingestLedgers({ url }, [file], { logger: capturingLogger().logger })).rejects.toMatchObject({
        code: 'INPUT',
        message: `${file}: PostgreSQL refused a row of the file (new row for relation "ledger_entries" violates check constraint "test_refuses")`,
      });
    });
    expect(await storedIds()).toEqual(['S0']);
  });
});

describe('encodings', () => {
  const win874 = (text: string) => iconv.encode(text, 'win874');
  const utf8 = (text: string) => Buffer.from(text, 'utf8');
  const lines = (...parts: Buffer[]) => Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]));

  it('a Windows-874 file: a byte Windows-874 does not define, or a row of UTF-8 Thai, rejects that row saying so', async () => {
    const { file, report, rejected } = await ingest(
      lines(
        win874(HEADER),
        win874(row('W1', { ref: 'ใบสั่ง-1' })),
        Buffer.concat([win874('W2,charge,ใบสั่ง-'), Buffer.from([0xff]), win874(',chrg_W2,2024-05-01,,card,THB,10.00,,,,')]),
        utf8(row('W3', { ref: 'ใบสั่งซื้อ-3' })),
        win874(row('W4', { ref: 'ใบสั่ง-4', note: 'หมายเหตุ' })),
        // a column the ledger does not map is not read, whatever it holds
        Buffer.concat([win874(row('W5', { note: 'x' })), Buffer.from([0xdb])]),
      ),
    );
    expect(rejected).toEqual([
      [3, 'W2', 'reference_order is not valid Windows-874 text (byte 0xFF)'],
      [4, 'W3', 'reference_order is UTF-8 text in a file read as Windows-874'],
    ]);
    // the unreadable byte shown as such, the UTF-8 row as the Thai it is
    expect(report.rejected.map((r) => r.raw)).toEqual(['W2,charge,ใบสั่ง-\ufffd,chrg_W2,2024-05-01,,card,THB,10.00,,,,', row('W3', { ref: 'ใบสั่งซื้อ-3' })]);
    expect(report.rejected[0]!.file).toBe(file);
    expect(await storedIds()).toEqual(['W1', 'W4', 'W5']);
    const w4 = await db.selectFrom('ledger_entries').select('reference_order').where('entry_id', '=', 'W4').executeTakeFirstOrThrow();
    expect(w4.reference_order).toBe('ใบสั่ง-4');
  });

  it('a mostly UTF-8 file with a Windows-874 row, and a byte neither encoding reads: those rows are rejected, saying so', async () => {
    const { rejected } = await ingest(
      lines(
        utf8(HEADER),
        utf8(row('U1', { ref: 'ใบสั่ง-1' })),
        win874(row('U2', { ref: 'ใบสั่ง-2' })),
        utf8(row('U3', { ref: 'ใบสั่ง-3' })),
        withByte(row('U4', { mid: '40¤' }), 0xfe),
        utf8(row('U5', { ref: 'ใบสั่ง-5' })),
      ),
    );
    expect(rejected).toEqual([
      [3, 'U2', 'reference_order is Windows-874 text in a file read as UTF-8'],
      [5, 'U4', 'mid is not valid UTF-8 text (byte 0xFE)'],
    ]);
    expect(await storedIds()).toEqual(['U1', 'U3', 'U5']);
  });

  it('a UTF-8 file whose Windows-874 row comes after the sniffed 64 KB stays UTF-8 once UTF-8 text was read', async () => {
    const padding = Array.from({ length: 1500 }, (_, i) => utf8(row(`P${i}`, { note: 'padding-padding-padding' })));
    const { rejected, report } = await ingest(lines(utf8(HEADER), utf8(row('T1', { ref: 'ใบสั่ง-1' })), ...padding, win874(row('T2', { ref: 'ใบสั่ง-2' }))));
    expect(report.rows).toBe(1502);
    expect(rejected).toEqual([[1503, 'T2', 'reference_order is Windows-874 text in a file read as UTF-8']]);
  });

  it('a header row that cannot be read in the file\'s encoding makes the file unusable (exit 2), naming it', async () => {
    const file = join(dir, 'bad-header.csv');
    await writeFile(file, lines(withByte(HEADER.replace('note', 'note¤'), 0xff), win874(row('H1', { ref: 'ใบสั่ง' }))));
    await expect(ingestLedgers({ url }, [file], { logger: capturingLogger().logger })).rejects.toMatchObject({
      code: 'INPUT',
      message: `${file}: the header row is not valid Windows-874 text (byte 0xFF)`,
    });
  });
});

/** `text` as UTF-8 with `byte` where `¤` is. */
function withByte(text: string, byte: number): Buffer {
  const [before, after] = text.split('¤');
  return Buffer.concat([Buffer.from(before!, 'utf8'), Buffer.from([byte]), Buffer.from(after ?? '', 'utf8')]);
}
