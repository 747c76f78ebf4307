import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { merchantTables, startWorker, testMerchant, writeMerchantsFile, type TestMerchant } from './helpers.ts';

/**
 * KBank limits a key, not a merchant: two merchants that share a key_env share one rate limit
 * and one concurrency, the lower of their settings, however many workers run their nights. It
 * is measured where the requests arrive: one simulator serves both merchants' charges.
 */
const database = await createTestDatabase();
const D = '2026-06-21';
const KEY = 'skey_test_shared_0123456789';
const KEY_ENV = 'KPGW_KEY_SHARED';
/** Each merchant alone would go faster: 8 requests a second, or 4 at once. */
const SETTINGS = [
  { mid: 'TWIN1', rps: 5, concurrency: 4 },
  { mid: 'TWIN2', rps: 8, concurrency: 2 },
];
/** Enough charges for each night to last several seconds at 5 a second. */
const CHARGES = 25;

const tables = await Promise.all(SETTINGS.map((s) => merchantTables(database.url, s.mid)));
let root: string;
let merchants: TestMerchant[];
let simulator: Simulator;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kpgw-shared-key-'));
  merchants = (await Promise.all(SETTINGS.map((s) => testMerchant(root, s.mid, [D], CHARGES)))).map((m) => ({ ...m, key: KEY, keyEnv: KEY_ENV }));
  simulator = await startSimulator({ secretKey: KEY, charges: merchants.flatMap((m) => m.charges.map((c) => c.gateway)), today: D });
  const settings = (m: TestMerchant) => SETTINGS.find((s) => s.mid === m.mid)!;
  await writeMerchantsFile(join(root, 'merchants.json'), merchants, (m) => ({ base_url: simulator.url, rate_limit_rps: settings(m).rps, concurrency: settings(m).concurrency }));
});
afterAll(async () => {
  await simulator?.close();
  await rm(root, { recursive: true, force: true });
});

describe('two merchants sharing one key, two workers', () => {
  it('never send more than the lower rate limit, nor more at once than the lower concurrency', async () => {
    // No request may time out and be asked again, however busy the machine: the count is exact.
    const env = { [KEY_ENV]: KEY, DATABASE_URL: database.url, RECON_MERCHANTS: join(root, 'merchants.json'), LOG_LEVEL: 'warn', KPGW_TIMEOUT_MS: '600000' };
    expect((await runCli(['enqueue', '--date', D], { env })).code).toBe(0);
    // Either worker could run both nights at once; the key's one queue must not let it.
    const workers = await Promise.all([startWorker(['--once', '--concurrency', '2'], env), startWorker(['--once', '--concurrency', '2'], env)]);
    for (const w of workers) expect((await w.done).code).toBe(0);

    for (const db of tables) {
      expect(await db.selectFrom('recon_runs').select(['from_date', 'status']).execute()).toEqual([{ from_date: D, status: 'finished' }]);
    }
    const stats = simulator.stats();
    expect(stats.total).toBe(2 * CHARGES);
    expect(stats.maxInAnyWindow).toBeLessThanOrEqual(5);
    expect(stats.maxInFlight).toBeLessThanOrEqual(2);
  }, 180_000);
});
