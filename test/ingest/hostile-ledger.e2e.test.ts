import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanLines, runCli, type CliOptions } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * Ledger files no export writes: gigabytes of NUL bytes after the header (a sparse file, so it
 * costs no disk), and a header with a column twice. Through the CLI, against real PostgreSQL.
 */
const database = await createTestDatabase();
const KEY = 'skey_test_hostile_ledger_0123';
const HEADER = 'entry_id,entry_type,reference_order,transaction_date,source_type,currency,amount\n';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-hostile-ledger-'));
  await writeFile(join(dir, 'nul.csv'), HEADER);
  // 64 GiB of NUL bytes on one "line": far more than any machine reads before the signal.
  await truncate(join(dir, 'nul.csv'), 64 * 1024 ** 3);
  await writeFile(join(dir, 'twice.csv'), 'entry_id,entry_type,reference_order,transaction_date,source_type,currency,Amount,amount \nE1,charge,ORD-1,2026-07-01,card,THB,10.00,99.00\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (ledger: string, options: CliOptions = {}) =>
  runCli(['run', '--from', '2026-07-01', '--ledger', join(dir, ledger), '--out', join(dir, 'out')], {
    ...options,
    // Nothing listens at the gateway's address: neither run gets that far.
    env: { DATABASE_URL: database.url, KPGW_BASE_URL: 'http://127.0.0.1:9', KPGW_SECRET_KEY: KEY, LOG_LEVEL: 'info' },
  });

describe('a ledger of NUL bytes', () => {
  it('is read without holding it, and SIGTERM stops the ingest: the run recorded aborted, nothing kept', async () => {
    let stderr = '';
    const result = await run('nul.csv', {
      onSpawn: (child) => {
        // Once the run has begun (it ingests next), ask it to stop.
        child.stderr!.on('data', (chunk: Buffer) => {
          const had = stderr.includes('"msg":"run started"');
          stderr += String(chunk);
          if (!had && stderr.includes('"msg":"run started"')) child.kill('SIGTERM');
        });
      },
    });
    expect(result.code, result.stderr).toBe(3);
    expect(humanLines(result.stderr)).toEqual(['kpgw-recon: interrupted by SIGTERM']);
    // Recorded by the run itself as it stopped (a run ended by the forced exit stays 'running').
    const runs = await database.db.selectFrom('recon_runs').select(['status', 'abort_reason']).execute();
    expect(runs).toEqual([{ status: 'aborted', abort_reason: 'interrupted by SIGTERM' }]);
    expect(await database.db.selectFrom('ledger_entries').select('entry_id').execute()).toEqual([]);
  }, 120_000);
});

describe('a ledger with a column twice', () => {
  it('is refused (exit 2), naming the column; not "the first one wins"', async () => {
    const result = await run('twice.csv');
    expect(result.code, result.stderr).toBe(2);
    expect(humanLines(result.stderr)).toEqual([
      `kpgw-recon: ${join(dir, 'twice.csv')}: the column 'Amount' appears 2 times in the header (columns 7, 8); which one holds amount cannot be told`,
    ]);
    expect(await database.db.selectFrom('ledger_entries').select('entry_id').execute()).toEqual([]);
  }, 120_000);
});
