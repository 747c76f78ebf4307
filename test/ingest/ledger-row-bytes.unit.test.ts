import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvReader, recordOf, type RecordSpan } from '../../src/ingest/csv-records.ts';
import { LEDGER_FIELDS, mapLedgerHeader, type LedgerColumns } from '../../src/ingest/ledger-columns.ts';
import { ledgerPieces } from '../../src/ingest/ledger-pieces.ts';
import { readLedgerRow } from '../../src/ingest/ledger-row.ts';
import { writePlainRow } from '../../src/ingest/ledger-row-bytes.ts';
import { copyLine } from '../../src/ingest/ledger-copy.ts';
import { seededRandom } from './helpers.ts';

/**
 * The byte reader (ledger-row-bytes.ts) may decline any record, but a line it writes must be
 * exactly the line the string reader (readLedgerRow + copyLine) writes, and it must never
 * accept a record the string reader rejects. Checked on generated records mixing good values
 * with every kind of near miss, under several headers.
 */

const DATES = ['2024-05-01', '1899-12-31', '1900-01-01', '2200-12-31', '2201-01-01', '0000-01-01', '31/12/2442', '01/01/2443', '31/12/2743', '01/01/2744', '2024-5-1', '01/05/2567', '1/5/2024', '31/12/2023', '31/02/2567', '29/02/2567', '29/02/2566', '29/02/2000', '29/02/1900', '2024-13-01', '2024-00-10', '0999-01-01', '0099-01-01', '2400-01-01', '2024/05/01', ' 2024-05-01', '2024-05-001', '12345-01-01', '1/5/24', '01/05/2567 ', 'x'];
const AMOUNTS = ['1', `${'0'.repeat(260)}1`, '1.5', '1.50', '1,234.50', '12,345,678.9', '0', '0.00', '0.01', '-1', '1.005', '12,34.5', '1234,567', ',123', '0001.00', '000', '1e3', '+1', '.5', '1.', '999999999999.99', '1000000000000', '0,001.00', ' 1', '1 ', '١', '1.2.3', '-', ''];
const FEES = [...AMOUNTS, '-0.07', '-0', '-0.00', '-1,000.5'];
const TEXTS = ['ref-1', '', '', 'x', 'nul\0', 'esc\x1b', 'del\x7f', 'v\vt', 'x'.repeat(256), 'x'.repeat(255), 'ก'.repeat(100), '\uf7ff', ' y', 'z ', 'a,b', '003', 'ข้อมูล', 'a"b', '\u00a0nbsp', 'tab\there', 'back\\slash'];
const VALUES: Record<string, readonly string[]> = {
  entry_id: ['E1', 'E2', 'ไอดี', ' E3', 'E4 ', '', 'E,5', 'E"6', 'E\\7'],
  entry_type: ['charge', 'CHARGE', 'Refund', 'void', 'VOID', 'payment', '', ' charge', 'chargé'],
  reference_order: TEXTS,
  charge_id: TEXTS,
  order_id: TEXTS,
  transaction_date: DATES,
  entry_date: ['', '', ...DATES],
  source_type: ['card', 'CARD', 'qr', 'QR', 'wechat', 'Alipay', 'unionpay', 'cash', '', 'ｃａｒｄ', 'card '],
  currency: ['THB', 'thb', 'Thb', 'USD', 'TH', 'THBB', '', 'TH1', 'ßXY', ' TH', 'T B'],
  amount: AMOUNTS,
  mdr: FEES,
  vat: FEES,
  net_amount: FEES,
  convfee_amount: FEES,
  convfee_vat: FEES,
  // mostly empty, as in most books; a charge row's partial capture, and values it cannot be
  captured_amount: ['', '', '400.00', '1,234.50', '1,234.51', '0', '-1', '1.005', 'x', '999999999999.99'],
  term: ['', '3', '003', '999', '1000', '0', ' 3', '3.0', '-1', '0000000000000000000003', '๓'],
  note: ['', 'plain', 'multi\nline', 'quote "inside"', 'tab\tand\\slash', 'ภาษาไทย'],
};

/** A CSV value, quoted when it has to be and now and then when it does not. */
function csvValue(value: string, next: () => number): string {
  if (/[",\n\r]/.test(value) || next() < 0.1) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

function generate(header: readonly string[], rows: number, seed: number): string {
  const next = seededRandom(seed);
  const pick = (list: readonly string[]): string => list[Math.floor(next() * list.length)]!;
  const lines = [header.join(',')];
  for (let i = 0; i < rows; i++) {
    // mostly good values (the first of each list) with a few near misses, so both readers get work
    const record = header.map((column) => {
      const list = VALUES[column.toLowerCase()] ?? TEXTS;
      return csvValue(next() < 0.97 ? list[0]! : pick(list), next);
    });
    if (next() < 0.02) record.pop(); // a short row
    lines.push(record.join(','));
    if (next() < 0.02) lines.push(''); // a blank line
  }
  return lines.join(next() < 0.5 ? '\n' : '\r\n') + '\n';
}

interface Compared {
  records: number;
  fast: number;
}

/** Reads `text` with both readers and compares every record. */
function compare(text: string, columns: LedgerColumns): Compared {
  const out = Buffer.alloc(1 << 16);
  const counts = { records: 0, fast: 0 };
  const check = (span: RecordSpan): void => {
    counts.records++;
    const end = writePlainRow(span, columns, out, 0);
    const record = recordOf(span);
    const outcome = readLedgerRow(record, columns);
    if (end < 0) return;
    counts.fast++;
    expect(outcome, `line ${record.line}: ${record.raw}`).toMatchObject({ ok: true });
    if (outcome.ok) expect(out.toString('utf8', 0, end), `line ${record.line}: ${record.raw}`).toBe(copyLine(outcome.entry, record.line));
  };
  const reader = new CsvReader();
  let header = true;
  const take = (span: RecordSpan): void => {
    if (header) header = false;
    else check(span);
  };
  reader.push(Buffer.from(text), take);
  reader.push(null, take);
  return counts;
}

function columnsOf(header: readonly string[]): LedgerColumns {
  const mapped = mapLedgerHeader(header);
  if (!mapped.ok) throw new Error(mapped.problem);
  return mapped.columns;
}

const FULL = [...LEDGER_FIELDS, 'note'];
const HEADERS: Record<string, readonly string[]> = {
  'every column, canonical order': FULL,
  'every column, shuffled': [...FULL].sort((a, b) => (a.length % 5) - (b.length % 5) || a.localeCompare(b)),
  'only the required columns and charge_id': ['entry_id', 'entry_type', 'transaction_date', 'source_type', 'currency', 'amount', 'charge_id'],
  'upper-case names and no note': LEDGER_FIELDS.map((f) => f.toUpperCase()),
};

describe('the byte reader of ledger rows', () => {
  for (const [name, header] of Object.entries(HEADERS)) {
    it(`writes exactly what the string reader writes, or leaves the row to it (${name})`, () => {
      const { records, fast } = compare(generate(header, 4000, name.length), columnsOf(header));
      expect(records).toBeGreaterThan(3900);
      // the comparison means something only if the byte reader takes a fair share
      expect(fast / records).toBeGreaterThan(0.1);
    });
  }

  it('takes the rows of an everyday export itself', () => {
    const header = FULL.join(',');
    const rows = [
      'E1,charge,ORD-1,chrg_1,,2024-05-01,,card,THB,"1,234.50",1.00,0.07,"1,233.43",,401000000000001,,,,,,,25.00,1.75,,note',
      'E2,Refund,ORD-1,chrg_1,,01/05/2567,2/5/2567,CARD,thb,100,-1.5,-0.11,-98.39,rfnd_1,,PLAN,Y,003,0001,M-1,002,,,,',
      'E3,void,,,ordr_3,2024-5-9,,QR,THB,0.5,,,,,,,,,,,,,,,"a, b"',
      // a partial capture is left to the string reader, which checks it against the amount
      'E4,charge,ORD-4,chrg_4,,2024-05-01,,card,THB,500.00,,,,,,,,,,,,,,400.00,',
    ];
    const columns = columnsOf(FULL);
    const lines: string[] = [];
    const reader = new CsvReader();
    const out = Buffer.alloc(4096);
    reader.push(Buffer.from([header, ...rows].join('\n') + '\n'), (span) => {
      if (span.line === 1) return;
      const end = writePlainRow(span, columns, out, 0);
      lines.push(end < 0 ? 'declined' : out.toString('utf8', 0, end));
    });
    expect(lines).toEqual([
      '2\tE1\tcharge\tORD-1\tchrg_1\t\\N\t2024-05-01\t2024-05-01\tcard\tTHB\t1234.50\t1.00\t0.07\t1233.43\t\\N\t401000000000001\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t25.00\t1.75\t\\N\n',
      '3\tE2\trefund\tORD-1\tchrg_1\t\\N\t2024-05-01\t2024-05-02\tcard\tTHB\t100.00\t-1.50\t-0.11\t-98.39\trfnd_1\t\\N\tPLAN\tY\t3\t0001\tM-1\t002\t\\N\t\\N\t\\N\n',
      '4\tE3\tvoid\t\\N\t\\N\tordr_3\t2024-05-09\t2024-05-09\tqr\tTHB\t0.50\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n',
      'declined',
    ]);
  });
});

describe('ledgerPieces', () => {
  const dir = mkdtemp(join(tmpdir(), 'kpgw-pieces-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('gives the same COPY text and rejections with and without the byte reader, across pieces', async () => {
    const file = join(await dir, 'ledger.csv');
    // about 1.5 MB: several pieces
    await writeFile(file, generate(FULL, 12_000, 7));
    const read = async (fromBytes: boolean) => {
      const bytes: Buffer[] = [];
      const rejected = [];
      let pieces = 0;
      for await (const piece of ledgerPieces(file, 'utf8', columnsOf(FULL), { fromBytes })) {
        pieces++;
        bytes.push(...piece.bytes);
        rejected.push(...piece.rejected);
      }
      return { text: Buffer.concat(bytes).toString('utf8'), rejected, pieces };
    };
    const [fast, slow] = [await read(true), await read(false)];
    expect(fast.pieces).toBeGreaterThan(3);
    expect(fast.rejected.length).toBeGreaterThan(100);
    expect(fast.text).toBe(slow.text);
    expect(fast.rejected).toEqual(slow.rejected);
  });
});
