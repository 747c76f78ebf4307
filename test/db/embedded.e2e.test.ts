import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli, type CliOptions } from '../helpers/cli.ts';
import { until } from '../helpers/wait.ts';

/** PostgreSQL server processes whose data directory lies under `dir`. */
async function postgresProcessesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('postgres') && cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * No server left under `dir`: a server that is stopping may take a moment to leave the process
 * table, longer on a busy machine; one that stays is a hang, caught by the test's hang guard.
 */
async function noServerUnder(dir: string): Promise<boolean> {
  return until(async () => (await postgresProcessesUnder(dir)).length === 0, 100);
}

const cwds: string[] = [];
async function freshCwd(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kpgw-cwd-'));
  await chmod(dir, 0o755);
  cwds.push(dir);
  return dir;
}

// A run that cannot finish on its own: every gateway answer hangs. Signalled once the gateway has
// been asked, it is certainly interrupted in the middle, with the embedded server up.
const KEY = 'skey_test_embedded_interrupt';
let simulator: Simulator;
let ledger: string;
beforeAll(async () => {
  const charge = buildCharge({ key: 'embedded-1', date: '2026-07-01', amount: '100.00' });
  simulator = await startSimulator({ secretKey: KEY, charges: [charge.gateway], faults: { random: { hang: 1 } } });
  const dir = await freshCwd();
  ledger = join(dir, 'ledger.csv');
  await writeFile(ledger, ledgerCsv(charge.ledger));
});
afterAll(async () => {
  await simulator?.close();
  for (const dir of cwds) await rm(dir, { recursive: true, force: true });
});

function hangingRun(cwd: string, signal: NodeJS.Signals) {
  simulator.resetStats();
  const onSpawn: CliOptions['onSpawn'] = (child) => {
    // Once asked (or, should it fail before, once it has ended: nothing to interrupt then).
    void until(() => simulator.stats().total > 0 || child.exitCode !== null).then(() => child.kill(signal));
  };
  return runCli(['run', '--from', '2026-07-01', '--ledger', ledger, '--out', join(cwd, 'out')], {
    cwd,
    env: { ...EMBEDDED, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_TIMEOUT_MS: '120000' },
    onSpawn,
  });
}

const EMBEDDED = { DATABASE_URL: undefined };

describe('the embedded PostgreSQL', () => {
  it('serves two migrate processes started at the same moment and leaves no server behind', async () => {
    const cwd = await freshCwd();
    const [a, b] = await Promise.all([runCli(['migrate'], { cwd, env: EMBEDDED }), runCli(['migrate'], { cwd, env: EMBEDDED })]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    expect(await noServerUnder(cwd)).toBe(true);
    const again = await runCli(['migrate'], { cwd, env: EMBEDDED });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/schema is current/);
    expect(await noServerUnder(cwd)).toBe(true);
  });

  it('stops its server when the command is interrupted with SIGINT', async () => {
    const cwd = await freshCwd();
    const result = await hangingRun(cwd, 'SIGINT');
    expect(result.code).toBe(3);
    expect(humanLines(result.stderr)).toEqual(['kpgw-recon: interrupted by SIGINT']);
    expect(await noServerUnder(cwd)).toBe(true);
    expect((await runCli(['migrate'], { cwd, env: EMBEDDED })).code).toBe(0);
  });

  it('clears the server left by a killed command, and the next command starts cleanly', async () => {
    const cwd = await freshCwd();
    const killed = await hangingRun(cwd, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(await postgresProcessesUnder(cwd)).not.toEqual([]); // the orphan is really there…
    const next = await runCli(['migrate'], { cwd, env: EMBEDDED });
    expect(next.code, next.stderr).toBe(0);
    expect(await noServerUnder(cwd)).toBe(true); // …and gone after the next command
  });
});
