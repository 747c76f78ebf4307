import { appendFileSync, truncateSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestLedgers } from '../../src/ingest/ledger-ingest.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturingLogger } from './helpers.ts';

/**
 * A ledger file that changes while it is read (an export still being written, a file cut short
 * or replaced) gave rows of no one version of it: it is refused whole and nothing of it is kept.
 * The change is made from the ingest's own progress callback, after the first rows were read
 * and before the file is committed: no timing involved.
 */
const { db, url } = await createTestDatabase();
let dir: string;
/** Enough rows for several progress calls (a call per 256 KiB of COPY text). */
const rows = Array.from({ length: 8000 }, (_, i) => buildCharge({ key: `chg-${i}`, date: '2026-07-01', amount: `${100 + (i % 50)}.00` }).ledger[0]!);
const text = ledgerCsv(rows);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-changed-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeEach(async () => {
  await db.deleteFrom('ledger_entries').execute();
});

const count = async () => Number((await db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe('a ledger file that changes while it is read', () => {
  it.each([
    // Synchronous, so the change is made before the ingest goes on.
    ['cut short', (file: string) => truncateSync(file, text.length / 2)],
    ['added to', (file: string) => appendFileSync(file, ledgerCsv([buildCharge({ key: 'late', date: '2026-07-01', amount: '1.00' }).ledger[0]!]).split('\n').slice(1).join('\n'))],
  ])('%s: refused whole, naming the file; no row of it is kept', async (_how, change) => {
    const file = join(dir, `books-${_how.replace(' ', '-')}.csv`);
    await writeFile(file, text);
    let changed = false;
    const error = await ingestLedgers({ url }, [file], {
      logger: capturingLogger().logger,
      onProgress: () => {
        if (!changed) change(file);
        changed = true;
      },
    }).catch((e: unknown) => e);
    expect(changed).toBe(true);
    expect(error).toMatchObject({
      code: 'INPUT_CHANGED',
      message: `${file}: the file changed while it was read (its size or modification time); nothing of it was kept: run again once it is complete`,
    });
    expect(await count()).toBe(0);
  });

  it('a file left alone is ingested whole', async () => {
    const file = join(dir, 'books-still.csv');
    await writeFile(file, text);
    const report = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger, onProgress: () => undefined });
    expect(report).toMatchObject({ rows: 8000, inserted: 8000, rejected: [] });
    expect(await count()).toBe(8000);
  });
});
