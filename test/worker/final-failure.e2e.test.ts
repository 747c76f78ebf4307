import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { merchantTables, startWorker, testMerchant, writeMerchantsFile, type TestMerchant } from './helpers.ts';

/**
 * docs/reference.md §1.16: a night that fails for a reason the next attempt would meet again (the gateway's
 * authentication_failure) is not retried in a loop, and the run table says why it stopped.
 */
const database = await createTestDatabase();
const m1 = await merchantTables(database.url, 'M1');
const D = '2026-06-15';

let root: string;
let merchant: TestMerchant;
let simulator: Simulator;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kpgw-final-'));
  merchant = await testMerchant(root, 'M1', [D], 5);
  // The gateway knows another key than the one the merchant's variable holds.
  simulator = await startSimulator({ secretKey: 'skey_test_another_0123456789', charges: merchant.charges.map((c) => c.gateway), today: D });
  await writeMerchantsFile(join(root, 'merchants.json'), [merchant], () => ({ base_url: simulator.url }));
});
afterAll(async () => {
  await simulator?.close();
  await rm(root, { recursive: true, force: true });
});

describe('a night the gateway refuses (authentication_failure)', () => {
  it('fails its job for good, with the reason in the run table and the job', async () => {
    const env = { [merchant.keyEnv]: merchant.key, DATABASE_URL: database.url, RECON_MERCHANTS: join(root, 'merchants.json'), LOG_LEVEL: 'warn' };
    expect((await runCli(['enqueue', '--date', D], { env })).code).toBe(0);
    expect((await (await startWorker(['--once'], env)).done).code).toBe(3);
    // A second worker finds nothing to do: the job is not tried again.
    expect((await (await startWorker(['--once'], env)).done).code).toBe(0);

    const runs = await m1.selectFrom('recon_runs').select(['status', 'exit_code', 'abort_reason']).execute();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'aborted', exit_code: 3 });
    expect(runs[0]!.abort_reason).toMatch(/authentication_failure/);
    const { rows: jobs } = await sql<{ key: string; attempts: number; max_attempts: number; last_error: string }>`
      SELECT key, attempts, max_attempts, last_error FROM graphile_worker.jobs`.execute(database.db);
    expect(jobs).toEqual([{ key: `nightly:M1:${D}`, attempts: 1, max_attempts: 1, last_error: expect.stringMatching(/authentication_failure/) }]);
  });
});
