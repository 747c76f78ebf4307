import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { csvRecords, type CsvRecord } from '../../src/ingest/csv-records.ts';

async function read(chunks: string[]): Promise<CsvRecord[]> {
  async function* source() {
    yield* chunks;
  }
  const out: CsvRecord[] = [];
  for await (const batch of csvRecords(source())) out.push(...batch);
  return out;
}

const nasty = readFileSync(new URL('../fixtures/ledger/nasty.csv', import.meta.url), 'utf8');

describe('csvRecords', () => {
  it('gives each record the line it starts on, counting newlines inside quotes and blank lines', async () => {
    const records = await read([nasty]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23]);
  });

  it('reads quoted commas, doubled quotes and line breaks inside quotes; raw is the original text', async () => {
    const records = await read([nasty]);
    expect(records[1]!.fields.at(-1)).toBe('a note, with a comma');
    expect(records[1]!.fields[9]).toBe('1,234.50');
    expect(records[2]!.fields.at(-1)).toBe('a note spanning\ntwo lines');
    expect(records[2]!.raw).toBe('L2,charge,ORD-2,chrg_2,,01/05/2567,,CARD,THB,99.5,1.5,0.11,97.89,,,"a note spanning\ntwo lines"');
    expect(records[3]!.fields.at(-1)).toBe('He said "refund"');
    expect(records[13]!.fields.at(-1)).toBe('multi\n\nline note');
  });

  it('makes a quote never closed one bad record of its first line and reads on', async () => {
    const records = await read([nasty]);
    expect(records[17]).toMatchObject({ line: 22, malformed: 'a quoted value is never closed', raw: 'L14,void,ORD-14,chrg_14,,2024-05-01,,alipay,THB,5.00,,,,,,"never closed' });
    expect(records[18]).toMatchObject({ line: 23, fields: expect.arrayContaining(['L15']) });
  });

  it('strips CR of CRLF, also inside quoted records, and reads a last line without a line end', async () => {
    const records = await read(['a,"b\r\nc"\r\n1,2\r\n3,4']);
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b\r\nc']],
      [3, ['1', '2']],
      [4, ['3', '4']],
    ]);
    expect(records[0]!.raw).toBe('a,"b\r\nc"');
  });

  it('reads the same records however the text is split into chunks', async () => {
    const whole = await read([nasty]);
    for (const size of [1, 2, 3, 5, 7, 16, 64, 100]) {
      const chunks: string[] = [];
      for (let i = 0; i < nasty.length; i += size) chunks.push(nasty.slice(i, i + size));
      expect(await read(chunks)).toEqual(whole);
    }
  });
});
