import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { findSplit } from '../../src/ingest/ledger-parallel.ts';
import { ingestLedgers } from '../../src/ingest/ledger-ingest.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturingLogger } from './helpers.ts';

/**
 * A large ledger file is parsed by two worker threads, each reading one half (ledger-parallel.ts).
 * These tests lower the threshold so that small files take that path, and check that it stores
 * and rejects exactly what the single-threaded path does, including when the cut falls where a
 * quoted value spans lines, and when a stray quote makes the cut untrustworthy (fallback).
 */
const { db, url } = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-parallel-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

beforeEach(async () => {
  await db.deleteFrom('ledger_entries').execute();
});

const HEADER = 'entry_id,entry_type,reference_order,charge_id,order_id,transaction_date,entry_date,source_type,currency,amount,mdr,vat,net_amount,refund_id,mid,note';

/** Row i: mostly good, some of every kind of bad, repeats of earlier ids (same or other content). */
function row(i: number, note = ''): string {
  const cents = 100_000 + i * 37;
  const amount = `"${Math.floor(cents / 100).toLocaleString('en-US')}.${String(cents % 100).padStart(2, '0')}"`;
  switch (i % 97) {
    case 5:
      return `P${i},charge,ORD-${i},chrg_${i},,2024-05-01,,card,THB,"12,34.5",,,,,,${note}`;
    case 11:
      return `P${i},charge,ORD-${i},chrg_${i},,31/02/2567,,card,THB,${amount},,,,,,${note}`;
    case 17:
      return `P${i},charge,ORD-${i}`;
    case 23:
      return `P${i - 20},charge,ORD-${i},chrg_${i},,2024-05-01,,card,THB,1.00,,,,,,${note}`; // repeat, other content
    case 29:
      return row(i - 29 + 1, note).replace(/,[^,]*$/, `,${note}`); // repeat, same content
    case 31:
      return `P${i},refund,ORD-${i},chrg_${i},,01/05/2567,2024-05-03,CARD,thb,${amount},-1.00,0.07,"1,000.00",refd_${i},401000000000001,"say ""hi"", twice"`;
    case 37:
      return `P${i},charge,,,ordr_${i},2024-05-01,,wechat,THB,7,,,,,,"two\nlines"`;
    default:
      return `P${i},charge,ORD-${i},chrg_${i},,${1 + (i % 28)}/05/2567,,card,thb,${amount},1.00,0.07,,,401000000000001,${note}`;
  }
}

/**
 * A file of about `rows` rows whose byte middle falls on the line feed inside the quoted note of
 * a record, so the first line feed after the middle is not a record boundary.
 */
function fileWithNewlineAtMiddle(rows: number, eol: string): string {
  const head = [HEADER, ...Array.from({ length: rows / 2 }, (_, i) => row(i + 1))].join(eol) + eol;
  const special = `P900000,charge,ORD-X,chrg_x,,2024-05-01,,card,THB,5.00,,,,,,"before the cut${eol}after the cut"${eol}`;
  const target = Buffer.byteLength(head) + Buffer.byteLength(special.slice(0, special.indexOf(eol)));
  // the rest: rows, then padding in the last note, to make the whole exactly 2 * target bytes
  const needed = 2 * target - Buffer.byteLength(head) - Buffer.byteLength(special);
  let tail = '';
  let tailBytes = 0;
  for (let i = rows / 2 + 1; ; i++) {
    const next = row(i) + eol;
    if (tailBytes + Buffer.byteLength(next) + 40 > needed) break;
    tail += next;
    tailBytes += Buffer.byteLength(next);
  }
  const last = `P800000,charge,ORD-Z,chrg_z,,2024-05-01,,card,THB,6.00,,,,,,`;
  const pad = needed - tailBytes - Buffer.byteLength(last) - Buffer.byteLength(eol);
  tail += last + 'x'.repeat(pad) + eol;
  const text = head + special + tail;
  expect(Buffer.byteLength(text)).toBe(2 * target);
  return text;
}

async function storedRows() {
  return db
    .selectFrom('ledger_entries')
    .selectAll()
    .orderBy('entry_id')
    .execute()
    .then((rows) => rows.map(({ ingested_at: _, ...rest }) => rest));
}

async function ingestBothWays(file: string) {
  await db.deleteFrom('ledger_entries').execute();
  const sequentialLog = capturingLogger();
  const sequential = await ingestLedgers({ url }, [file], { logger: sequentialLog.logger, parallelFromBytes: Number.MAX_SAFE_INTEGER });
  const sequentialRows = await storedRows();
  await db.deleteFrom('ledger_entries').execute();
  const parallelLog = capturingLogger();
  let progress = 0;
  const parallel = await ingestLedgers({ url }, [file], { logger: parallelLog.logger, parallelFromBytes: 1, onProgress: (n) => (progress = n) });
  const parallelRows = await storedRows();
  const usedWorkers = parallelLog.lines().find((l) => l.msg === 'ledger file ingested')?.parallel;
  expect(sequentialLog.lines().find((l) => l.msg === 'ledger file ingested')?.parallel).toBe(false);
  expect(progress).toBe(parallel.rows);
  return { sequential, parallel, sequentialRows, parallelRows, usedWorkers };
}

describe('ingest of a large ledger file on two threads', () => {
  it('cuts the file at a record boundary even when a quoted value spans the middle, and gives the same rows and rejections', async () => {
    const file = join(dir, 'middle.csv');
    const text = fileWithNewlineAtMiddle(2000, '\n');
    await writeFile(file, text);
    const split = await findSplit(file, Buffer.byteLength(text));
    // the cut is after the record whose value spans the middle, with that record's line count
    const cutText = Buffer.from(text).subarray(0, split!.byte).toString();
    expect(cutText.endsWith('"before the cut\nafter the cut"\n')).toBe(true);
    expect(split!.line).toBe(cutText.split('\n').length);

    const { sequential, parallel, sequentialRows, parallelRows, usedWorkers } = await ingestBothWays(file);
    expect(usedWorkers).toBe(true);
    expect(parallel).toEqual(sequential);
    expect(parallelRows).toEqual(sequentialRows);
    expect(sequential.rejected.length).toBeGreaterThan(50);
    expect(sequential.rejected.some((r) => r.reason.startsWith('duplicate entry_id'))).toBe(true);
    expect(sequentialRows.find((r) => r.entry_id === 'P900000')).toMatchObject({ source_line: split!.line - 2 });
    expect(sequentialRows.find((r) => r.entry_id === 'P800000')).toBeDefined();
  });

  it('gives the same outcome with a BOM, CRLF and Windows-874 text, and into a table already holding entries (upsert)', async () => {
    const file = join(dir, 'thai.csv');
    const text = fileWithNewlineAtMiddle(1000, '\r\n').replace(/twice/g, 'สองครั้ง');
    await writeFile(file, iconv.encode(text, 'win874'));
    const bom = join(dir, 'bom.csv');
    await writeFile(bom, `\uFEFF${fileWithNewlineAtMiddle(1000, '\r\n')}`);
    for (const f of [file, bom]) {
      const both = await ingestBothWays(f);
      expect(both.usedWorkers).toBe(true);
      expect(both.parallel).toEqual(both.sequential);
      expect(both.parallelRows).toEqual(both.sequentialRows);
    }
    // upsert path: the table is not empty
    await db.deleteFrom('ledger_entries').execute();
    await ingestLedgers({ url }, [bom], { logger: capturingLogger().logger });
    const first = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger, parallelFromBytes: Number.MAX_SAFE_INTEGER });
    const firstRows = await storedRows();
    await db.deleteFrom('ledger_entries').execute();
    await ingestLedgers({ url }, [bom], { logger: capturingLogger().logger });
    const second = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger, parallelFromBytes: 1 });
    expect(second).toEqual(first);
    expect(await storedRows()).toEqual(firstRows);
  });

  it('falls back to one thread when a stray quote makes the cut untrustworthy, with the same outcome', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row(i + 1));
    // a quote inside an unquoted value is literal, but upsets the quote count before the middle
    rows[100] = `Q1,charge,ORD-Q"1,chrg_q1,,2024-05-01,,card,THB,5.00,,,,,,`;
    const odd = join(dir, 'odd.csv');
    await writeFile(odd, [HEADER, ...rows].join('\n') + '\n');
    // a quoted value never closed, at the end (no quote after it to close it)
    const unclosed = join(dir, 'unclosed.csv');
    rows[100] = row(101);
    rows.push(`Q2,charge,ORD-Q2,chrg_q2,,2024-05-01,,card,THB,5.00,,,,,,"never closed`, 'Q3,charge,ORD-Q3,chrg_q3,,2024-05-01,,card,THB,5.00,,,,,,');
    await writeFile(unclosed, [HEADER, ...rows].join('\n') + '\n');
    expect(await findSplit(odd, (await stat(odd)).size)).toMatchObject({ byte: expect.any(Number) });
    for (const f of [odd, unclosed]) {
      const both = await ingestBothWays(f);
      expect(both.usedWorkers).toBe(false);
      expect(both.parallel).toEqual(both.sequential);
      expect(both.parallelRows).toEqual(both.sequentialRows);
    }
  });

  it('rolls back everything when aborted while the workers read', async () => {
    const file = join(dir, 'abort.csv');
    await writeFile(file, fileWithNewlineAtMiddle(20_000, '\n'));
    const controller = new AbortController();
    const ingest = ingestLedgers({ url }, [file], {
      logger: capturingLogger().logger,
      parallelFromBytes: 1,
      signal: controller.signal,
      onProgress: (n) => n > 0 && controller.abort(),
    });
    await expect(ingest).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(await storedRows()).toEqual([]);
  });
});
