import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shiftDate } from '../../src/dates.ts';
import { writeSample } from '../../src/sample/write-sample.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli, type CliOptions, type CliResult } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/**
 * A night run twice, or killed halfway and run again, ends with the same per-charge state and
 * findings as one clean night (issue 11).
 */
const clean = await createTestDatabase();
const replayed = await createTestDatabase();
const KEY = 'skey_test_replay_0123456789';
const D = '2026-07-01';

let simulator: Simulator;
let inbox: string;

beforeAll(async () => {
  inbox = await mkdtemp(join(tmpdir(), 'kpgw-replay-'));
  const sample = await writeSample(inbox, { from: D, days: 2, chargesPerDay: 150, seed: 21, defectRate: 0.1, badRows: false, timeline: { lateRefunds: 0.1 } });
  simulator = await startSimulator({ secretKey: KEY, dataFile: sample.gateway, today: D });
});
afterAll(async () => {
  await simulator?.close();
  await rm(inbox, { recursive: true, force: true });
});

function nightly(database: TestDatabase, date: string, onSpawn?: CliOptions['onSpawn']): Promise<CliResult> {
  simulator.setToday(date);
  return runCli(['nightly', '--date', date], {
    env: {
      DATABASE_URL: database.url,
      KPGW_BASE_URL: simulator.url,
      KPGW_SECRET_KEY: KEY,
      KPGW_RATE_LIMIT_RPS: '1000',
      KPGW_CONCURRENCY: '4',
      RECON_INBOX: inbox,
      RECON_REPORTS_DIR: join(inbox, 'reports'),
      LOG_LEVEL: 'warn',
    },
    onSpawn,
  });
}

/** Everything a night carries over, without the ids and times of the runs that wrote it. */
async function carried(database: TestDatabase) {
  const states = await database.db
    .selectFrom('charge_state')
    .select(['charge_key', 'entry_id', 'transaction_date', 'amount', 'open', 'open_reason', 'open_message', 'open_since', 'first_seen_on', 'last_asked_on', 'next_ask_on'])
    .orderBy('charge_key')
    .execute();
  const findings = await database.db
    .selectFrom('findings')
    .select(['charge_key', 'code', 'field', 'entry_id', 'ledger_value', 'gateway_value', 'message', 'first_seen_on', 'resolved_on'])
    .orderBy('charge_key').orderBy('code').orderBy('field').orderBy('entry_id')
    .execute();
  return { states, findings };
}

describe('a night run again', () => {
  it('twice, or after a SIGKILL halfway, carries over exactly what one clean night does', async () => {
    for (const date of [D, shiftDate(D, 1)]) expect((await nightly(clean, date)).signal).toBeNull();
    const expected = await carried(clean);
    expect(expected.states.filter((s) => s.open).length).toBeGreaterThan(10);
    expect(expected.findings.filter((f) => f.resolved_on !== null).length).toBeGreaterThan(10);

    expect((await nightly(replayed, D)).signal).toBeNull();
    // Halfway through the second night's questions the gateway stops answering, and the run is killed.
    simulator.resetStats();
    const killed = await nightly(replayed, shiftDate(D, 1), (child) => {
      void (async () => {
        while (simulator.stats().total < 100) await sleep(2);
        simulator.setFaults({ latencyMs: 600_000 });
        child.kill('SIGKILL');
      })();
    });
    simulator.setFaults({});
    expect(killed.signal).toBe('SIGKILL');
    const finished = await replayed.db.selectFrom('recon_runs').select('run_id').where('status', '=', 'finished').execute();
    expect(finished).toHaveLength(1);

    for (let i = 0; i < 2; i++) expect((await nightly(replayed, shiftDate(D, 1))).signal).toBeNull();
    expect(await carried(replayed)).toEqual(expected);
  });
});
