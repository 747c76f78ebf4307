import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { keysEnv, merchantTables, startWorker, testMerchant, writeMerchantsFile, type TestMerchant } from './helpers.ts';

/**
 * docs/reference.md §1.16: three merchants, each with its own key and rate limit, and two workers. Each
 * merchant-night runs once, each gateway key stays within its cap, and the merchants' nights run
 * side by side.
 */
const database = await createTestDatabase();
const D = '2026-06-20';
/** Caps per second, and charges enough for about six seconds of questions at each. */
const MERCHANTS = [
  { mid: 'SHOPA', cap: 5, charges: 30 },
  { mid: 'SHOPB', cap: 10, charges: 60 },
  { mid: 'SHOPC', cap: 20, charges: 120 },
];

const tables = new Map(await Promise.all(MERCHANTS.map(async (m) => [m.mid, await merchantTables(database.url, m.mid)] as const)));

let root: string;
let merchants: TestMerchant[];
const simulators = new Map<string, Simulator>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kpgw-merchants-'));
  merchants = await Promise.all(MERCHANTS.map((m) => testMerchant(root, m.mid, [D], m.charges)));
  for (const m of merchants) simulators.set(m.mid, await startSimulator({ secretKey: m.key, charges: m.charges.map((c) => c.gateway), today: D }));
  const cap = (mid: string) => MERCHANTS.find((m) => m.mid === mid)!.cap;
  await writeMerchantsFile(join(root, 'merchants.json'), merchants, (m) => ({ base_url: simulators.get(m.mid)!.url, rate_limit_rps: cap(m.mid), concurrency: 4 }));
});
afterAll(async () => {
  await Promise.all([...simulators.values()].map((s) => s.close()));
  await rm(root, { recursive: true, force: true });
});

describe('three merchants, two workers', () => {
  it('run each merchant-night once, each within its cap, side by side', async () => {
    const env = { ...keysEnv(merchants), DATABASE_URL: database.url, RECON_MERCHANTS: join(root, 'merchants.json'), LOG_LEVEL: 'warn' };
    const queued = await runCli(['enqueue', '--date', D], { env });
    expect(queued.stdout).toBe(MERCHANTS.map((m, i) => `queued nightly:${m.mid}:${D} (job ${i + 1})\n`).join(''));
    // The same nights queued again before any worker ran: still one job each.
    expect((await runCli(['enqueue', '--date', D], { env })).code).toBe(0);

    // Room for all three nights in either worker: whichever starts first takes them at once, so
    // their overlap does not hang on how quickly the second process starts on a busy machine.
    const workers = await Promise.all([startWorker(['--once', '--concurrency', '3'], env), startWorker(['--once', '--concurrency', '3'], env)]);
    for (const w of workers) expect((await w.done).code).toBe(0);

    // One finished run per merchant-night, in the merchant's own tables and reports folder.
    const byMerchant = await Promise.all(
      merchants.map((m) => tables.get(m.mid)!.selectFrom('recon_runs').select(['merchant', 'report_dir', 'from_date', 'status', 'started_at', 'finished_at']).execute()),
    );
    for (const [i, merchantRuns] of byMerchant.entries()) {
      const m = merchants[i]!;
      expect(merchantRuns.map((r) => [r.merchant, r.from_date, r.status, r.report_dir?.startsWith(m.reportsDir)])).toEqual([[m.mid, D, 'finished', true]]);
    }
    const runs = byMerchant.flat();

    for (const m of MERCHANTS) {
      const stats = simulators.get(m.mid)!.stats();
      expect(stats.total, m.mid).toBe(m.charges);
      expect(stats.maxInAnyWindow, m.mid).toBeLessThanOrEqual(m.cap);
    }
    // Side by side: the last night to start started before the first to finish had finished.
    const lastStart = Math.max(...runs.map((r) => r.started_at.getTime()));
    const firstFinish = Math.min(...runs.map((r) => r.finished_at!.getTime()));
    expect(lastStart).toBeLessThan(firstFinish);
  });
});
