import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely } from '../../src/db/connection.ts';
import type { Database } from '../../src/db/database.ts';
import type { EmbeddedDatabase } from '../../src/db/embedded.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli, type CliOptions } from '../helpers/cli.ts';
import { startOwnServer, type OwnServer } from '../helpers/own-server.ts';

/**
 * A PostgreSQL of this file's own (the shared one cannot be restarted under other test files),
 * restarted while a real `run` is in its inquiry stage.
 */
const KEY = 'skey_test_restart_0123456789ab';
const CHARGES = 40;
const charges = Array.from({ length: CHARGES }, (_, i) => buildCharge({ key: `restart-${i}`, date: '2026-09-01', amount: `${300 + i}.00` }));
// Two findings, so comparing reports compares something.
charges[3]!.ledger[0]!.amount = '304.00';
charges[7]!.gateway.transaction_state = 'Voided';

let own: OwnServer;
let parent: string;
let embedded: EmbeddedDatabase;
let db: Kysely<Database>;
let simulator: Simulator;

beforeAll(async () => {
  own = await startOwnServer('kpgw-restart-');
  ({ server: embedded, dir: parent } = own);
  db = createKysely(embedded.url);
  await writeFile(join(parent, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway) });
});
afterAll(async () => {
  await simulator?.close();
  await db?.destroy();
  await own?.stop();
});

const run = (out: string, onSpawn?: CliOptions['onSpawn']) =>
  runCli(['run', '--from', '2026-09-01', '--ledger', join(parent, 'ledger.csv'), '--out', join(parent, out)], {
    env: {
      DATABASE_URL: embedded.url,
      KPGW_BASE_URL: simulator.url,
      KPGW_SECRET_KEY: KEY,
      KPGW_RATE_LIMIT_RPS: '10',
      KPGW_CONCURRENCY: '2',
      RECON_REPORTS_DIR: join(parent, 'reports'),
    },
    onSpawn,
  });

/** The reports' content, without what names the run or when a finding was first seen. */
async function reports(out: string): Promise<{ mismatches: Record<string, string>[]; summary: string }> {
  const mismatches = parse(await readFile(join(parent, out, 'mismatches.csv'), 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
  const runIndependent = mismatches.map(({ run_id: _r, finding_state: _s, first_seen_on: _f, ...rest }) => rest);
  return { mismatches: runIndependent, summary: await readFile(join(parent, out, 'summary.csv'), 'utf8') };
}

async function until(what: string, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 7200; i += 1) {
    if (ready()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('PostgreSQL restarts during the inquiry stage', () => {
  it('the run ends aborted with exit 3 and one line, or finishes with the reports of an undisturbed run; the next run completes', async () => {
    const undisturbed = await run('undisturbed');
    expect(undisturbed.code, undisturbed.stderr.slice(-2000)).toBe(1);
    const expected = await reports('undisturbed');
    expect(expected.mismatches.length).toBeGreaterThan(0);

    simulator.setFaults({ latencyMs: 400 });
    let restart: { asked: number; runStatus: string | undefined } | undefined;
    let restarted: Promise<void> = Promise.resolve();
    let disturbed;
    const before = simulator.stats().total;
    try {
      disturbed = await run('disturbed', (child) => {
        restarted = (async () => {
          await until('the inquiry stage has begun', () => simulator.stats().total > before);
          const running = await db.selectFrom('recon_runs').select('status').orderBy('started_at', 'desc').executeTakeFirst();
          restart = { asked: simulator.stats().total - before, runStatus: running?.status };
          await embedded.restart();
        })().catch((error: unknown) => {
          child.kill('SIGKILL');
          throw error;
        });
      });
      await restarted;
    } finally {
      simulator.setFaults({});
    }

    // The restart certainly began while the run was asking the gateway: running, not all asked.
    expect(restart?.runStatus).toBe('running');
    expect(restart!.asked).toBeGreaterThan(0);
    expect(restart!.asked).toBeLessThan(CHARGES);

    expect(disturbed.stderr).not.toMatch(/\n\s+at /);
    if (disturbed.code === 3) {
      expect(humanLines(disturbed.stderr)).toEqual([expect.stringMatching(/^kpgw-recon: /)]);
      const last = await db.selectFrom('recon_runs').select(['status', 'exit_code']).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
      expect(last).toEqual({ status: 'aborted', exit_code: 3 });
    } else {
      expect(disturbed.code, disturbed.stderr.slice(-2000)).toBe(undisturbed.code);
      expect(await reports('disturbed')).toEqual(expected);
    }

    const next = await run('next');
    expect(next.code, next.stderr.slice(-2000)).toBe(undisturbed.code);
    expect(await reports('next')).toEqual(expected);
  });
});
