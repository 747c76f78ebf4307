import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvReader, csvRecords, type CsvRecord } from '../../src/ingest/csv-records.ts';

async function read(chunks: (string | Buffer)[]): Promise<CsvRecord[]> {
  async function* source() {
    for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
  const out: CsvRecord[] = [];
  for await (const batch of csvRecords(source())) out.push(...batch);
  return out;
}

/** Whether the reader calls each record of `text` plain (its values usable as bytes, see RecordSpan). */
function plainness(text: string): boolean[] {
  const reader = new CsvReader();
  const plain: boolean[] = [];
  reader.push(Buffer.from(text), (span) => plain.push(span.plain));
  reader.push(null, (span) => plain.push(span.plain));
  return plain;
}

const nasty = readFileSync(new URL('../fixtures/ledger/nasty.csv', import.meta.url));

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
    expect(records[17]!.fields[0]).toBe('L14');
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
    expect((await read(['a,"b"\r'])).map((r) => r.fields)).toEqual([['a', 'b']]);
  });

  it('keeps a quote inside an unquoted value and text after a closing quote', async () => {
    const records = await read(['a,b"c,"d"e,""\n']);
    expect(records[0]!.fields).toEqual(['a', 'b"c', 'de', '']);
  });

  it('reads the same records however the bytes are split into chunks, Thai letters cut in half included', async () => {
    // first: the stray quote at the end of nasty.csv would otherwise close on its quote
    const thai = Buffer.concat([Buffer.from('L16,charge,ORD-16,chrg_16,,2024-05-01,,card,THB,7.00,,,,,,"หมายเหตุ, ภาษาไทย"\n'), nasty]);
    const whole = await read([thai]);
    expect(whole[0]!.fields.at(-1)).toBe('หมายเหตุ, ภาษาไทย');
    expect(whole).toHaveLength(20);
    for (const size of [1, 2, 3, 5, 7, 16, 64, 100]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < thai.length; i += size) chunks.push(thai.subarray(i, i + size));
      expect(await read(chunks)).toEqual(whole);
    }
  });
});

describe('csvRecords and csv-parse', () => {
  it('read well-formed RFC 4180 text alike: quotes, doubled quotes, commas and line breaks in values, LF or CRLF, Thai', async () => {
    let seed = 42;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['a', 'ORD-1', '1,234.50', 'say "hi"', 'two\nlines', 'cr\r\nlf', 'ภาษาไทย', '', ' spaced ', '"'];
    // one line ending per file: csv-parse takes the first it meets as the file's
    for (const eol of ['\n', '\r\n']) {
      let text = '';
      for (let r = 0; r < 2000; r++) {
        const values = Array.from({ length: 1 + next(6) }, () => pieces[next(pieces.length)]!);
        const quoted = values.map((v) => (/[",\r\n]/.test(v) || next(4) === 0 ? `"${v.replaceAll('"', '""')}"` : v));
        text += quoted.join(',') + eol;
      }
      const ours = (await read([text])).map((r) => r.fields);
      const theirs = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
      expect(ours).toHaveLength(2000);
      expect(ours).toEqual(theirs);
    }
  });
});

describe('CsvReader: plain records', () => {
  it('calls a record plain only when every value is its bytes and needs no COPY escaping', () => {
    expect(plainness('a,b,c\r\n"x,y",,"ข้อความ"\n')).toEqual([true, true]);
    expect(plainness('a,"say ""hi"""\n')).toEqual([false]); // doubled quote
    expect(plainness('a,"two\nlines"\n')).toEqual([false]); // line feed inside
    expect(plainness('a,"b"c\n')).toEqual([false]); // text after the closing quote
    expect(plainness('a,b\\c\n')).toEqual([false]); // backslash
    expect(plainness('a,b\tc\n')).toEqual([false]); // tab
    expect(plainness('a,b\rc\n')).toEqual([false]); // a CR that does not end the line
    expect(plainness('a,"never closed\n')).toEqual([false]);
  });
});

describe('a record without end', () => {
  const MiB = 1024 * 1024;
  /** `total` bytes of `byte`, in 64 KiB chunks, as a file of that many would be read. */
  const run = (byte: number, total: number): Buffer[] => {
    const chunk = Buffer.alloc(64 * 1024, byte);
    return Array.from({ length: Math.ceil(total / chunk.length) }, () => chunk);
  };
  const TOO_LONG = 'a record longer than 1 MiB without a line end (only its start is shown)';

  it.each([
    ['NUL bytes, unquoted', 0x00, ''],
    ['letters, unquoted', 0x61, 'E1,'],
    ['a quote never closed, and no line break', 0x61, 'E1,"'],
  ])('%s: one bad record of its first bytes; the rest of its line is skipped; reading goes on', async (_what, byte, start) => {
    const records = await read(['entry_id,note\n', start, ...run(byte, 5 * MiB), '\nE2,fine\n']);
    expect(records.map((r) => [r.line, r.malformed ?? 'ok'])).toEqual([[1, 'ok'], [2, TOO_LONG], [3, 'ok']]);
    expect(Buffer.byteLength(records[1]!.raw)).toBe(256);
    expect(records[2]!.fields).toEqual(['E2', 'fine']);
  });

  it('holds at most the cap and a chunk, however long the line (the reader keeps nothing it skips)', () => {
    const reader = new CsvReader();
    let records = 0;
    for (const chunk of run(0x00, 64 * MiB)) reader.push(chunk, () => records++);
    // The record was given up at the cap, once; what is held now is none of the 64 MiB.
    expect(records).toBe(1);
    expect((reader as unknown as { rest: Buffer }).rest.length).toBe(0);
  });

  it('a record of just under the cap is still read whole', async () => {
    const value = 'x'.repeat(MiB - 10);
    const records = await read(['a,b\n', `1,${value.slice(0, 1000)}`, value.slice(1000), '\n']);
    expect(records[1]!.fields[1]).toBe(value);
    expect(records[1]!.malformed).toBeUndefined();
  });
});
