import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestLedgers } from '../../src/ingest/ledger-ingest.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { generateLedger } from './generate-ledger.ts';
import { capturingLogger, FIXTURES, ledgerDefaults } from './helpers.ts';

const { db, url } = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-ingest-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function count(): Promise<number> {
  const { n } = await db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(n);
}

beforeEach(async () => {
  await db.deleteFrom('ledger_entries').execute();
});

describe('ledger ingest idempotency', () => {
  it('ingesting the same file again changes nothing', async () => {
    const file = join(dir, 'twice.csv');
    await generateLedger(file, 5_000);
    const first = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger });
    expect(first).toMatchObject({ rows: 5_000, inserted: 5_000, unchanged: 0, replaced: 0, rejected: [] });
    const before = await db.selectFrom('ledger_entries').selectAll().orderBy('entry_id').execute();
    const second = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger });
    expect(second).toMatchObject({ rows: 5_000, inserted: 0, unchanged: 5_000, replaced: 0, rejected: [] });
    const after = await db.selectFrom('ledger_entries').selectAll().orderBy('entry_id').execute();
    expect(after).toEqual(before); // not even rewritten
  });

  it('the nasty fixture twice: the second time every good row is unchanged and the same rows are rejected', async () => {
    const file = `${FIXTURES}ledger/nasty.csv`;
    const first = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger });
    const second = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger });
    expect(second).toMatchObject({ rows: 18, inserted: 0, replaced: 0, unchanged: 6 });
    expect(second.rejected).toEqual(first.rejected);
    expect(await count()).toBe(5);
  });

  it('an aborted ingest (the run interrupted) throws INTERRUPTED and stores nothing of the file', async () => {
    const file = join(dir, 'aborted.csv');
    await generateLedger(file, 50_000);
    const controller = new AbortController();
    const ingest = ingestLedgers({ url }, [file], {
      logger: capturingLogger().logger,
      signal: controller.signal,
      onProgress: (rows) => rows > 10_000 && controller.abort(),
    });
    await expect(ingest).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(await count()).toBe(0);
  });

  it('a process killed mid-ingest leaves nothing behind, and the next ingest stores exactly the file', async () => {
    const rows = 300_000;
    const file = join(dir, 'big.csv');
    await generateLedger(file, rows);
    const defaults = await ledgerDefaults(db);
    const killed = await new Promise<{ signal: NodeJS.Signals | null; progress: number }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ingest-child.ts', import.meta.url)), url, file], {
        stdio: ['ignore', 'pipe', 'inherit'],
        // No tsx compile cache left in the temp folder; the child holds still at 100,000 rows.
        env: { ...process.env, TSX_DISABLE_CACHE: '1', INGEST_HOLD_AT: '100000' },
      });
      let progress = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        for (const match of String(chunk).matchAll(/progress (\d+)/g)) progress = Number(match[1]);
        if (progress >= 100_000) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('close', (_code, signal) => resolve({ signal, progress }));
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.progress).toBeLessThan(rows);
    expect(await count()).toBe(0);
    // the column defaults the killed bulk load had made literals are the table's own again
    expect(await ledgerDefaults(db)).toEqual(defaults);

    const report = await ingestLedgers({ url }, [file], { logger: capturingLogger().logger });
    expect(report).toMatchObject({ rows, inserted: rows, rejected: [] });
    expect(await count()).toBe(rows);
    const { distinct } = await db
      .selectFrom('ledger_entries')
      .select((eb) => eb.fn.count<number>('entry_id').distinct().as('distinct'))
      .executeTakeFirstOrThrow();
    expect(Number(distinct)).toBe(rows);
    // the indexes dropped for the killed bulk load are all there
    const { rows: indexes } = await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_entries' ORDER BY 1`.execute(db);
    expect(indexes.map((i) => i.indexname)).toEqual([
      'ledger_entries_by_date',
      'ledger_entries_follow_ups_by_entry_date',
      'ledger_entries_pkey',
    ]);
  });
});
