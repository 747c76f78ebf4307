import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * The request budget of docs/reference.md §1.3: a night asks at most N charges, its own first, then the open
 * ones oldest first; the rest are deferred, said so, and picked up the next night.
 */
const database = await createTestDatabase();
const KEY = 'skey_test_budget_0123456789';
const D = '2026-05-10';
const day = (n: number) => shiftDate(D, n);

let simulator: Simulator;
let inbox: string;

/** `count` charges of day `n` that the gateway never settles: each stays open. */
const pendingCharges = (n: number, count: number) =>
  Array.from({ length: count }, (_, i) => {
    const c = buildCharge({ key: `d${n}_${String(i).padStart(3, '0')}`, date: day(n), amount: '100.00' });
    Object.assign(c.gateway, { transaction_state: 'Captured', settlement_info: null });
    return c;
  });
const older = pendingCharges(-1, 100);
const previous = pendingCharges(0, 90);
const own = pendingCharges(1, 60);
const later = pendingCharges(2, 30);
const all = [...older, ...previous, ...own, ...later];
const idsOf = (charges: typeof all) => charges.map((c) => String(c.gateway.id));

beforeAll(async () => {
  inbox = await mkdtemp(join(tmpdir(), 'kpgw-budget-'));
  await mkdir(join(inbox, 'ledger'));
  await writeFile(join(inbox, 'ledger', 'books.csv'), ledgerCsv(all.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: all.map((c) => c.gateway), today: D });
});
afterAll(async () => {
  await simulator?.close();
  await rm(inbox, { recursive: true, force: true });
});

async function night(n: number, args: string[] = []) {
  simulator.resetStats();
  const out = join(inbox, `night-${n}`);
  const result = await runCli(['nightly', '--date', day(n), '--out', out, ...args], {
    env: {
      DATABASE_URL: database.url,
      KPGW_BASE_URL: simulator.url,
      KPGW_SECRET_KEY: KEY,
      KPGW_RATE_LIMIT_RPS: '1000',
      KPGW_CONCURRENCY: '16',
      KPGW_MAX_RETRIES: '0',
      // No request may time out on a busy machine: each night's answers, and so its asks, are exact.
      KPGW_TIMEOUT_MS: '600000',
      RECON_INBOX: inbox,
      LOG_LEVEL: 'warn',
    },
  });
  const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
  const asked = await database.db.selectFrom('gateway_inquiries').select('charge_key').where('run_id', '=', run.run_id).execute();
  return { result, run, asked: asked.map((a) => a.charge_key).sort(), requests: simulator.stats().total };
}

describe('nightly --max-requests', () => {
  it('asks exactly that many, its own charges first and then the oldest open; the next night picks up the rest', async () => {
    expect((await night(-1)).asked).toEqual(idsOf(older).sort());
    expect((await night(0)).asked).toEqual(idsOf([...older, ...previous]).sort());

    // 60 of its own and 190 open are due; 100 are asked: the 60, then 40 of the oldest (D-1's,
    // oldest first and then by charge id).
    const budgeted = await night(1, ['--max-requests', '100']);
    expect(budgeted.requests).toBe(100);
    expect(budgeted.asked).toEqual(idsOf([...own, ...older.slice(0, 40)]).sort());
    expect(budgeted.run.counts).toMatchObject({ charges: 100, revisited: 40, rechecked: 0, deferred: 150 });
    expect(budgeted.result.stdout).toMatch(/revisited 40 {3}re-checked 0 {3}deferred to the next night 150/);

    // The next night's own 30 do not fit in a budget of 20: 10 are deferred, never asked yet.
    const short = await night(2, ['--max-requests', '20']);
    expect(short.asked).toEqual(idsOf(later.slice(0, 20)).sort());
    expect(short.run.counts).toMatchObject({ deferred: 250 + 30 - 20 });
    const deferred = await database.db.selectFrom('charge_state').select('charge_key').where('open_reason', '=', 'DEFERRED').execute();
    expect(deferred.map((r) => r.charge_key).sort()).toEqual(idsOf(later.slice(20)).sort());

    // Without a budget, the next night asks every open charge, the deferred ones included, once.
    const next = await night(3);
    expect(next.asked).toEqual(idsOf(all).sort());
    expect(next.requests).toBe(all.length);
    expect(next.run.counts).toMatchObject({ deferred: 0, revisited: all.length });
  });

  it('refuses a budget that is not a whole number of at least 1, before anything is done', async () => {
    const result = await runCli(['nightly', '--max-requests', '0'], { env: { RECON_INBOX: inbox, KPGW_SECRET_KEY: KEY, DATABASE_URL: database.url } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe("kpgw-recon: nightly: --max-requests must be a whole number from 1 to 10000000, got '0'");
  });
});
