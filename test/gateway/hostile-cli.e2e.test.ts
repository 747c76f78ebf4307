import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { answerText, closedPort, redirect, startHostileServer, type HostileServer } from './hostile-gateway.ts';

/** One CLI run per class of hostile answer (issue 10): the exit code and the one stderr line. */
const database = await createTestDatabase();
const KEY = 'skey_test_Hq2wE4rT6yU8iO0pA1sD';
// One charge per day, so each run covers its own charge and no run resumes another.
const DAYS = ['2026-07-01', '2026-07-02', '2026-07-03', '2026-07-04', '2026-07-05'];
const charges = DAYS.map((date, i) => buildCharge({ key: `hcli-${i}`, date, amount: '250.00' }));
let dir: string;
let gateway: HostileServer;
let elsewhere: HostileServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-hostile-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  gateway = await startHostileServer('127.0.0.1');
  elsewhere = await startHostileServer('127.0.0.2', answerText(200, JSON.stringify(charges[0]!.gateway)));
});
afterAll(async () => {
  await gateway?.close();
  await elsewhere?.close();
  await rm(dir, { recursive: true, force: true });
});

function run(day: number, over: Record<string, string> = {}) {
  return runCli(['run', '--from', DAYS[day]!, '--ledger', join(dir, 'ledger.csv'), '--out', join(dir, `out-${day}`)], {
    env: {
      DATABASE_URL: database.url,
      KPGW_BASE_URL: gateway.url,
      KPGW_SECRET_KEY: KEY,
      KPGW_TIMEOUT_MS: '2000',
      KPGW_MAX_RETRIES: '1',
      RECON_REPORTS_DIR: join(dir, 'reports'),
      LOG_LEVEL: 'warn',
      ...over,
    },
  });
}

const lastRunStatus = async () =>
  (await database.db.selectFrom('recon_runs').select('status').orderBy('started_at', 'desc').executeTakeFirstOrThrow()).status;

describe('kpgw-recon run against a hostile gateway', () => {
  it('a redirect aborts the run (exit 3) and the key never reaches the other address', async () => {
    gateway.behaviour = redirect(302, (path) => `${elsewhere.url}${path}`);
    const result = await run(0);
    expect(result.code, result.stderr).toBe(3);
    expect(humanLines(result.stderr)).toEqual([
      `kpgw-recon: K-Payment Gateway answered 302 redirecting to ${new URL(elsewhere.url).host}; redirects are never followed (the key is sent only to ${new URL(gateway.url).host}); check KPGW_BASE_URL`,
    ]);
    expect(elsewhere.requests).toEqual([]);
    expect(await lastRunStatus()).toBe('aborted');
  });

  it('an answer about another charge: the run completes (exit 0) with the charge unverified', async () => {
    gateway.behaviour = answerText(200, JSON.stringify({ ...charges[0]!.gateway }));
    const result = await run(1);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/charges\s+1\s+matched 0\s+mismatched 0\s+unverified 1/);
    expect(result.stderr).toContain(`answer is about another charge: its charge id is chrg_test_hcli-0, the ledger's is chrg_test_hcli-1`);
    const stored = await database.db.selectFrom('gateway_inquiries').select(['outcome', 'body']).where('charge_key', '=', 'chrg_test_hcli-1').execute();
    expect(stored).toEqual([{ outcome: 'failed', body: null }]);
  });

  it('an absurd amount: the charge is unverified, nothing overflows (exit 0)', async () => {
    const body = JSON.stringify(charges[2]!.gateway).replace(/"amount":[^,]+,/, '"amount":1e400,');
    gateway.behaviour = answerText(200, body);
    const result = await run(2);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/unverified 1/);
    expect(result.stderr).toContain('has no readable amount (1e400)');
  });

  it('ip_not_allow aborts the run (exit 3) with one line', async () => {
    gateway.behaviour = answerText(403, JSON.stringify({ object: 'error', code: 'ip_not_allow', message: 'IP not allowed' }));
    const result = await run(3);
    expect(result.code, result.stderr).toBe(3);
    expect(humanLines(result.stderr)).toEqual(["kpgw-recon: this machine's address is not allowed by KBank (ip_not_allow)"]);
  });

  it('an unreachable gateway (a closed port) aborts the run (exit 3) naming the host', async () => {
    const port = await closedPort();
    const result = await run(4, { KPGW_BASE_URL: `http://127.0.0.1:${port}` });
    expect(result.code, result.stderr).toBe(3);
    expect(humanLines(result.stderr)).toEqual([
      `kpgw-recon: K-Payment Gateway at 127.0.0.1:${port} gave no answer to any request (last: connection error: connect ECONNREFUSED 127.0.0.1:${port}); check KPGW_BASE_URL and the network`,
    ]);
    expect(await lastRunStatus()).toBe('aborted');
  });

  it('plain http:// to another host is a configuration error (exit 2) before anything is sent', async () => {
    const result = await run(4, { KPGW_BASE_URL: elsewhere.url.replace('127.0.0.2', 'kpgw.example') });
    expect(result.code, result.stderr).toBe(2);
    expect(humanLines(result.stderr)).toEqual([
      `kpgw-recon: KPGW_BASE_URL 'http://kpgw.example:${new URL(elsewhere.url).port}' must use https:// (plain http:// is allowed only to this machine: localhost, 127.0.0.0/8, ::1)`,
    ]);
    expect(elsewhere.requests).toEqual([]);
  });
});
