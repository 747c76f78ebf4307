import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { until } from '../helpers/wait.ts';
import { keysEnv, merchantTables, startWorker, testMerchant, writeMerchantsFile, type TestMerchant } from './helpers.ts';

/**
 * docs/reference.md §1.16: a worker killed in the middle of a merchant-night leaves the job to another
 * worker, which resumes the interrupted run: the answers it stored are not asked again, and the
 * night ends as an uninterrupted one does.
 */
const killed = await createTestDatabase();
const clean = await createTestDatabase();
const killedTables = await merchantTables(killed.url, 'M1');
const D = '2026-06-10';
/** 200 answers arrive and are stored as they come; the other two hang. */
const STORED = 200;
const HANGING = 2;

let root: string;
let merchant: TestMerchant;
let simulator: Simulator;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kpgw-takeover-'));
  merchant = await testMerchant(root, 'M1', [D], STORED + HANGING);
  simulator = await startSimulator({ secretKey: merchant.key, charges: merchant.charges.map((c) => c.gateway), today: D });
  await writeMerchantsFile(join(root, 'merchants.json'), [merchant], () => ({ base_url: simulator.url, rate_limit_rps: 200, concurrency: 4 }));
});
afterAll(async () => {
  await simulator?.close();
  await rm(root, { recursive: true, force: true });
});

const envOf = (url: string) => ({
  ...keysEnv([merchant]),
  DATABASE_URL: url,
  RECON_MERCHANTS: join(root, 'merchants.json'),
  KPGW_TIMEOUT_MS: '600000',
  LOG_LEVEL: 'warn',
});

/** What a night decided per charge, without the ids and times of the run that decided it. */
async function decided(db: Kysely<Database>) {
  const states = await db.selectFrom('charge_state').select(['charge_key', 'open', 'open_reason', 'last_asked_on', 'next_ask_on']).orderBy('charge_key').execute();
  const findings = await db.selectFrom('findings').select(['charge_key', 'code', 'field', 'resolved_on']).orderBy('charge_key').orderBy('code').execute();
  return { states, findings };
}

describe('a worker killed mid-job', () => {
  it('leaves the night to the other worker, which resumes it and ends as an uninterrupted night', async () => {
    const hanging = merchant.charges.slice(-HANGING).map((c) => String(c.gateway.id));
    simulator.setFaults({ perCharge: Object.fromEntries(hanging.map((id) => [id, 'hang'])) });
    expect((await runCli(['enqueue', '--date', D], { env: envOf(killed.url) })).code).toBe(0);
    const workers = [await startWorker(['--concurrency', '2'], envOf(killed.url)), await startWorker(['--concurrency', '2'], envOf(killed.url))];

    // The night's run, once every answer but the hanging ones is stored.
    // The run, once it has stored its answers.
    const running = await until(async () => {
      const run = await killedTables.selectFrom('recon_runs').select(['run_id', 'pid']).where('status', '=', 'running').executeTakeFirst();
      if (!run) return undefined;
      const { stored } = await killedTables.selectFrom('gateway_inquiries').select((eb) => eb.fn.countAll<string>().as('stored')).where('run_id', '=', run.run_id).executeTakeFirstOrThrow();
      return Number(stored) === STORED && simulator.stats().inFlight === HANGING ? run : undefined;
    });
    const victim = workers.find((w) => w.child.pid === running.pid)!;
    const survivor = workers.find((w) => w !== victim)!;
    const inFlight = simulator.stats().inFlight;
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    simulator.setFaults({});

    // The other worker finishing the night.
    const finished = await until(async () =>
      (await killedTables.selectFrom('recon_runs').select(['run_id', 'pid']).where('status', '=', 'finished').executeTakeFirst()) ?? undefined,
    );
    survivor.child.kill('SIGTERM');
    expect((await survivor.done).code).toBe(0);
    expect(finished.pid).toBe(survivor.child.pid);

    const runs = await killedTables.selectFrom('recon_runs').select(['status', 'abort_reason']).orderBy('started_at').execute();
    expect(runs).toEqual([{ status: 'aborted', abort_reason: 'the process ended without finishing (killed?)' }, { status: 'finished', abort_reason: null }]);
    // Asked twice: only the requests that were in flight when the worker was killed.
    const askedTwice = simulator.stats().total - merchant.charges.length;
    expect(askedTwice).toBe(HANGING);
    expect(askedTwice).toBeLessThanOrEqual(inFlight);

    // The same night, uninterrupted, on a database of its own.
    const out = await runCli(['nightly', '--date', D], {
      env: { DATABASE_URL: clean.url, KPGW_SECRET_KEY: merchant.key, KPGW_BASE_URL: simulator.url, RECON_INBOX: merchant.inbox, RECON_REPORTS_DIR: join(root, 'clean'), LOG_LEVEL: 'warn' },
    });
    expect(out.code).toBe(0);
    expect(await decided(killedTables)).toEqual(await decided(clean.db));
  });
});
