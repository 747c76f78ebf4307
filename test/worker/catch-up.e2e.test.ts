import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns/format';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { keysEnv, merchantTables, startWorker, testMerchant, writeMerchantsFile, type TestMerchant } from './helpers.ts';

/**
 * docs/reference.md §1.16: nights missed while no worker ran are caught up when workers start again, oldest
 * first, each once however many workers start.
 */
const database = await createTestDatabase();
const m1 = await merchantTables(database.url, 'M1');
const TZ = 'Asia/Bangkok';
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

// The schedule's hour is twelve hours from now in Bangkok, so that no scheduled time falls while
// the test runs: the nights queued are the caught-up ones only.
const now = new TZDate(Date.now(), TZ);
const hour = (now.getHours() + 12) % 24;
/** The latest scheduled time (minute 0 of `hour`, Bangkok) before now. */
const lastScheduled = (() => {
  const t = new TZDate(now.getFullYear(), now.getMonth(), now.getDate(), hour, 0, 0, TZ);
  return t.getTime() > Date.now() ? t.getTime() - DAY_MS : t.getTime();
})();
/** Each scheduled time reconciles the day before it, in Bangkok. */
const nightOf = (t: number) => shiftDate(new TZDate(t, TZ).toISOString().slice(0, 10), -1);
// A worker last ran three scheduled times ago; the two since were missed.
const ranLast = lastScheduled - 2 * DAY_MS;
const missed = [nightOf(lastScheduled - DAY_MS), nightOf(lastScheduled)];

let root: string;
let merchant: TestMerchant;
let simulator: Simulator;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kpgw-catch-up-'));
  merchant = await testMerchant(root, 'M1', [nightOf(ranLast), ...missed], 20);
  simulator = await startSimulator({ secretKey: merchant.key, charges: merchant.charges.map((c) => c.gateway), today: missed[1] });
  await writeMerchantsFile(join(root, 'merchants.json'), [merchant], () => ({ base_url: simulator.url, rate_limit_rps: 100, schedule: `0 ${hour} * * *` }));
});
afterAll(async () => {
  await simulator?.close();
  await rm(root, { recursive: true, force: true });
});

describe('workers started after an outage', () => {
  it('reconcile each missed night once, oldest first', async () => {
    const env = { ...keysEnv([merchant]), DATABASE_URL: database.url, RECON_MERCHANTS: join(root, 'merchants.json'), RECON_TZ: TZ, RECON_CATCH_UP_DAYS: '3', LOG_LEVEL: 'warn' };
    // A first worker registers the merchant's cron line; then graphile-worker's record of it is
    // set back to what the last worker before the outage would have left.
    const first = await (await startWorker(['--once'], env)).done;
    expect(first.code).toBe(0);
    // It says that nothing was due, and when the next night is: the next scheduled time, a day
    // after the last, reconciles the day before it.
    const next = lastScheduled + DAY_MS;
    expect(first.stdout).toBe(
      'nothing was due: no merchant-night was queued, and none was missed in the last 3 days\n'
        + `next: M1 night ${nightOf(next)} at ${format(new TZDate(next, TZ), 'yyyy-MM-dd HH:mm')} (Asia/Bangkok)\n`,
    );
    await sql`UPDATE graphile_worker._private_known_crontabs SET known_since = ${new Date(ranLast - DAY_MS)}, last_execution = ${new Date(ranLast)} WHERE identifier = 'nightly:M1'`.execute(database.db);

    const workers = await Promise.all([startWorker(['--once'], env), startWorker(['--once'], env)]);
    const results = await Promise.all(workers.map((w) => w.done));
    for (const result of results) expect(result.code).toBe(0);
    // Between them, the two workers say what they ran: each missed night once.
    const nightLines = results.flatMap((r) => r.stdout.split('\n').filter((line) => line.startsWith('M1 night ')));
    expect(nightLines.sort()).toEqual(missed.map((date) => `M1 night ${date}: reconciled, exit 0`));

    const runs = await m1.selectFrom('recon_runs').select(['from_date', 'status']).orderBy('started_at').execute();
    expect(runs).toEqual(missed.map((date) => ({ from_date: date, status: 'finished' })));
  });
});
