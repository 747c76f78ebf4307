import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * `nightly` run twice for one night (by hand after cron, or a worker's retry) asks the gateway
 * only what is still due: what the first run had no definite answer for. The second run
 * reconciles everything again, from the answers the first one got.
 */
const database = await createTestDatabase();
const KEY = 'skey_test_twice_0123456789';
const D = '2026-05-20';
const charges = Array.from({ length: 12 }, (_, i) => buildCharge({ key: `twice-${i}`, date: D, amount: `${100 + i}.00` }));
/** Its first request gets an HTTP 500; later ones are answered. */
const FLAKY = String(charges[0]!.gateway.id);
let simulator: Simulator;
let inbox: string;

beforeAll(async () => {
  inbox = await mkdtemp(join(tmpdir(), 'kpgw-twice-'));
  await mkdir(join(inbox, 'ledger'));
  await writeFile(join(inbox, 'ledger', 'books.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway), today: D, faults: { perCharge: { [FLAKY]: { kind: 'http500', times: 1 } } } });
});
afterAll(async () => {
  await simulator?.close();
  await rm(inbox, { recursive: true, force: true });
});

async function nightly(out: string) {
  simulator.resetStats();
  // Only the planted 500 goes unanswered: no request times out on a busy machine.
  const result = await runCli(['nightly', '--date', D, '--out', join(inbox, out)], {
    env: { DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_RATE_LIMIT_RPS: '1000', KPGW_MAX_RETRIES: '0', KPGW_TIMEOUT_MS: '600000', RECON_INBOX: inbox, LOG_LEVEL: 'warn' },
  });
  const run = JSON.parse(await readFile(join(inbox, out, 'run.json'), 'utf8'));
  return { result, run, requests: simulator.stats().total };
}

describe('nightly twice for one night', () => {
  it('asks only what the first run could not get a definite answer for', async () => {
    const first = await nightly('first');
    expect(first.result.code, first.result.stderr).toBe(0);
    expect(first.requests).toBe(12);
    expect(first.run.counts).toMatchObject({ charges: 12, matched: 11, unverified: 1 });

    const second = await nightly('second');
    expect(second.result.code, second.result.stderr).toBe(0);
    // The one unverified charge, asked again; the eleven answered ones are not.
    expect(second.requests).toBe(1);
    expect(second.run.counts).toMatchObject({ charges: 12, matched: 12, unverified: 0 });
    expect(second.run.gateway).toMatchObject({ requests: 1 });
  }, 120_000);
});
