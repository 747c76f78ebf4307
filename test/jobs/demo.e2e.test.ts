import { access, chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { runCli } from '../helpers/cli.ts';

async function postgresProcessesUnder(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('postgres') && cmdline.includes(dir)) count += 1;
  }
  return count;
}

describe('npm start (kpgw-recon demo) with nothing configured', () => {
  const cwd = mkdtemp(join(tmpdir(), 'kpgw-demo-'));
  afterAll(async () => rm(await cwd, { recursive: true, force: true }));

  // How long it takes is measured by bench, not asserted here.
  it('runs the sample on the embedded PostgreSQL and shows several kinds of finding', async () => {
    const dir = await cwd;
    await chmod(dir, 0o755);
    const result = await runCli(['demo'], { cwd: dir, env: { DATABASE_URL: undefined, LOG_LEVEL: 'warn' } });
    expect(result.code, result.stderr.slice(-1000)).toBe(0);

    const codes = [...result.stdout.matchAll(/^ {4}([A-Z_]+)\s+(\d+)/gm)].map((m) => ({ code: m[1]!, count: Number(m[2]) }));
    expect(codes.filter((c) => c.count > 0).length).toBeGreaterThanOrEqual(15);
    // Every kind of finding contract v2 added is shown by the demo's sample.
    const shown = new Set(codes.map((c) => c.code));
    for (const code of ['FEES_NOT_REPORTED', 'REFUND_PENDING', 'REFUND_UNVERIFIABLE', 'REFUND_EXCEEDS_AMOUNT', 'CONVFEE_MISMATCH', 'LIVEMODE_MISMATCH', 'ORPHAN_LEDGER_ENTRY']) {
      expect(shown.has(code), code).toBe(true);
    }
    expect(result.stdout).toMatch(/charges\s+3000\s+matched [1-9]\d*\s+mismatched [1-9]/);

    const reports = result.stdout.match(/reports: (.+)$/m)![1]!;
    expect(reports.startsWith(dir)).toBe(true);
    for (const file of ['mismatches.csv', 'summary.csv', 'rejected.csv', 'report.html', 'run.json']) await access(join(reports, file));
    // The three rows planted in the sample's ledger are rejected, each for the reason it was planted for.
    const rejected = parse(await readFile(join(reports, 'rejected.csv')), { bom: true, columns: true }) as Record<string, string>[];
    expect(rejected.map((r) => [r.entry_id, r.reason])).toEqual([
      ['BAD-1', "amount '12,34.5' is not a number"],
      ['BAD-2', "transaction_date '31/02/2026' is not a calendar date"],
      ['BAD-3', "source_type 'bitcoin' is not card, qr, wechat, alipay or unionpay"],
    ]);
    // The last line is the page to open.
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${join(reports, 'report.html')}`);
    expect(await postgresProcessesUnder(dir)).toBe(0);
  });
});
