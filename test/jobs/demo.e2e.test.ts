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
  it('runs the sample on the embedded PostgreSQL and shows several kinds of finding, the notifications\' three, and its finance files', async () => {
    const dir = await cwd;
    await chmod(dir, 0o755);
    const result = await runCli(['demo'], { cwd: dir, env: { DATABASE_URL: undefined, LOG_LEVEL: 'warn' } });
    expect(result.code, result.stderr.slice(-1000)).toBe(0);

    const codes = [...result.stdout.matchAll(/^ {4}([A-Z_]+)\s+([\d,]+)/gm)].map((m) => ({ code: m[1]!, count: Number(m[2]!.replaceAll(',', '')) }));
    expect(codes.filter((c) => c.count > 0).length).toBeGreaterThanOrEqual(15);
    // Every kind of finding that follows a charge across nights is shown by the demo's sample.
    const shown = new Set(codes.map((c) => c.code));
    for (const code of ['FEES_NOT_REPORTED', 'REFUND_PENDING', 'REFUND_UNVERIFIABLE', 'REFUND_EXCEEDS_AMOUNT', 'CONVFEE_MISMATCH', 'LIVEMODE_MISMATCH', 'ORPHAN_LEDGER_ENTRY']) {
      expect(shown.has(code), code).toBe(true);
    }
    // v3: KBank's notifications, through a notify-receiver, show its three codes: the Thai QR
    // charge the ledger never booked, the card payment KBank reversed after notifying it, the
    // forged notification. Each once.
    for (const code of ['NOT_IN_LEDGER', 'NOTIFY_STATE_MISMATCH', 'NOTIFY_CHECKSUM_INVALID']) {
      expect(codes.find((c) => c.code === code), code).toEqual({ code, count: 1 });
    }
    // The ledger's 3,000 and the two charges only KBank's notifications name.
    expect(result.stdout).toMatch(/charges\s+3,002\s+matched [1-9][\d,]*\s+mismatched [1-9]/);

    const reports = result.stdout.match(/reports: (.+)$/m)![1]!;
    expect(reports.startsWith(dir)).toBe(true);
    for (const file of ['mismatches.csv', 'summary.csv', 'rejected.csv', 'report.html', 'run.json']) await access(join(reports, file));
    const mismatches = parse(await readFile(join(reports, 'mismatches.csv')), { bom: true, columns: true }) as Record<string, string>[];
    expect(mismatches.filter((m) => m.code === 'NOT_IN_LEDGER').map((m) => [m.charge_id, m.gateway_value])).toEqual([[expect.stringMatching(/NOTBOOKED$/), '1490.00']]);
    expect(mismatches.find((m) => m.code === 'NOTIFY_STATE_MISMATCH')).toMatchObject({ charge_id: expect.stringMatching(/REVERSED$/), gateway_value: 'fail' });
    expect(mismatches.find((m) => m.code === 'NOTIFY_CHECKSUM_INVALID')).toMatchObject({ charge_id: 'chrg_test_forged_notify_000001' });

    // The finance export and the VAT schedule of its dates, beside report.html, the charge the
    // ledger lacks in each with its own status or kind.
    const month = (date: string) => date.slice(0, 7);
    const [, from, to] = /(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})_/.exec(reports)!;
    const exported = parse(await readFile(join(reports, 'finance-export.csv')), { bom: true, columns: true }) as Record<string, string>[];
    expect(exported.filter((r) => r.status === 'NOT_IN_LEDGER').map((r) => [r.charge_id, r.amount])).toEqual([[expect.stringMatching(/NOTBOOKED$/), '1490.00']]);
    const vat = [...new Set([month(from!), month(to!)])].map((m) => join(reports, `vat-schedule-${m}.csv`));
    const schedules = await Promise.all(vat.map(async (file) => parse(await readFile(file), { bom: true, columns: true }) as Record<string, string>[]));
    expect(schedules.flat().filter((r) => r.kind === 'not_in_ledger').map((r) => r.charge_id)).toEqual([expect.stringMatching(/NOTBOOKED$/)]);
    for (const file of [join(reports, 'finance-export.csv'), ...vat]) expect(result.stdout).toContain(file);
    // Its own lines group counts as the summary does: the sample's 3,000 charges, the export's rows.
    expect(result.stdout).toMatch(/^demo: 3,000 sample charges /m);
    expect(result.stdout).toContain(`finance-export.csv (${exported.length.toLocaleString('en-US')} charges)`);
    expect(exported.length).toBeGreaterThan(999);
    // How to go on with the other commands: the demo's database is gone, its sample is not.
    expect(result.stdout).toMatch(/the demo's database \(\.data\/demo-postgres\) is removed when it ends/);
    await expect(access(join(dir, '.data', 'demo-postgres'))).rejects.toThrow();
    await access(join(dir, '.data', 'demo', 'gateway.jsonl'));
    // The three rows planted in the sample's ledger are rejected, each for the reason it was planted for.
    const rejected = parse(await readFile(join(reports, 'rejected.csv')), { bom: true, columns: true }) as Record<string, string>[];
    expect(rejected.map((r) => [r.entry_id, r.reason])).toEqual([
      ['BAD-1', "amount '12,34.5' is not a number"],
      ['BAD-2', "transaction_date '31/02/2026' is not a calendar date"],
      ['BAD-3', "source_type 'bitcoin' is not card, qr, wechat, alipay or unionpay"],
    ]);
    // The summary's ledger rows are the sample ledger's data rows, those three among them (the plan
    // report's rows are not ledger rows).
    const ledgerRows = (await readFile(join(dir, '.data', 'demo', 'ledger', 'orders.csv'), 'utf8')).trimEnd().split('\n').length - 1;
    const run = JSON.parse(await readFile(join(reports, 'run.json'), 'utf8')) as { counts: { ledger_rows: number } };
    expect(run.counts.ledger_rows).toBe(ledgerRows);
    expect(result.stdout).toContain(`  ledger rows ${ledgerRows.toLocaleString('en-US')}   rejected 3 `);
    // The last line is the page to open.
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${join(reports, 'report.html')}`);
    expect(await postgresProcessesUnder(dir)).toBe(0);
  });
});
