import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { detectEncoding } from '../../src/ingest/decode.ts';
import { ingestLedgers } from '../../src/ingest/ledger-ingest.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturingLogger } from './helpers.ts';

const { db, url } = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-encoding-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('encoding detection', () => {
  it('tells UTF-8 (even cut mid-character) from Windows-874', () => {
    const thai = Buffer.from('ใบสั่งซื้อ', 'utf8');
    expect(detectEncoding(thai)).toBe('utf8');
    expect(detectEncoding(thai.subarray(0, thai.length - 1))).toBe('utf8');
    expect(detectEncoding(iconv.encode('ใบสั่งซื้อ', 'win874'))).toBe('win874');
    expect(detectEncoding(Buffer.from('plain ascii'))).toBe('utf8');
  });

  it('judges a file mixing the two by most of its lines with Thai text, Windows-874 on a tie', () => {
    const utf8 = (n: number) => Buffer.from(`ใบสั่ง-${n}\n`, 'utf8');
    const win874 = (n: number) => iconv.encode(`ใบสั่ง-${n}\n`, 'win874');
    expect(detectEncoding(Buffer.concat([Buffer.from('header\n'), utf8(1), win874(2), utf8(3)]))).toBe('utf8');
    expect(detectEncoding(Buffer.concat([Buffer.from('header\n'), win874(1), utf8(2), win874(3)]))).toBe('win874');
    expect(detectEncoding(Buffer.concat([utf8(1), win874(2)]))).toBe('win874');
    // a line neither encoding reads has no say
    expect(detectEncoding(Buffer.concat([utf8(1), Buffer.from([0xff, 0x0a])]))).toBe('utf8');
    // a BOM says UTF-8, whatever the lines say
    expect(detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), win874(1), win874(2)]))).toBe('utf8');
  });

  it('a Windows-874 file whose first Thai text comes after the sniffed 64 KB is read again as Windows-874', async () => {
    const lines = ['entry_id,entry_type,reference_order,charge_id,transaction_date,source_type,currency,amount'];
    for (let i = 1; i <= 2_000; i++) lines.push(`A${i},charge,ORDER-NUMBER-${i}-PADDING-PADDING-PADDING,chrg_${i},2024-05-01,card,THB,10.00`);
    lines.push('THAI,charge,ใบสั่งซื้อ-ไทย,chrg_thai,2024-05-01,card,THB,10.00');
    const file = join(dir, 'late-thai.csv');
    const bytes = iconv.encode(`${lines.join('\n')}\n`, 'win874');
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    await writeFile(file, bytes);
    const report = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger });
    expect(report).toMatchObject({ rows: 2_001, inserted: 2_001, rejected: [] });
    const row = await db.selectFrom('ledger_entries').select('reference_order').where('entry_id', '=', 'THAI').executeTakeFirstOrThrow();
    expect(row.reference_order).toBe('ใบสั่งซื้อ-ไทย');
  });
});
