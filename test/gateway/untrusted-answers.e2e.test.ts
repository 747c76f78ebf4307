import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { PEAK_RSS_REPORTER, peakRssMb } from '../bench/peak-rss.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { flood, startHostileServer, type Behaviour, type HostileServer } from './hostile-gateway.ts';

/**
 * Answers that cannot be trusted whole, through the CLI: a figure that is there but is not a
 * number is a finding with the text received, never a silent match; a body of 100 MB is not
 * read past 1 MiB, and the run's own memory (the child process's peak RSS) stays small.
 */
const database = await createTestDatabase();
const KEY = 'skey_test_untrusted_0123456789';
const D1 = '2026-07-01';
const D2 = '2026-07-02';
// 400.00 at the builder's 2.5 % and VAT 7 %: MDR 10.00, VAT 0.70, net 400.00 - 10.00 - 0.70 = 389.30.
const withLedgerFees = buildCharge({ key: 'fig-mdr', date: D1, amount: '400.00', ledgerFees: 'all' });
const withoutLedgerFees = buildCharge({ key: 'fig-vat', date: D1, amount: '400.00' });
// A refund of 100.00 booked with its own fees: MDR 2.50, VAT 0.18 (0.175 rounded half up), net 97.32.
const refunded = buildCharge({ key: 'fig-refund', date: D1, amount: '400.00', refunds: [{ amount: '100.00', ledgerFees: true }] });
const flooded = buildCharge({ key: 'flood', date: D2, amount: '50.00' });

/** Each charge's answer, as text, so that figures JSON.stringify cannot write (1e400) reach the client as sent. */
const answers = new Map<string, string>([
  [withLedgerFees.gateway.id as string, JSON.stringify(withLedgerFees.gateway).replace(/"orig_mdr":"[^"]+"/, '"orig_mdr":"<b>9</b>"')],
  [withoutLedgerFees.gateway.id as string, JSON.stringify(withoutLedgerFees.gateway).replace(/"orig_vat":"[^"]+"/, '"orig_vat":1e400')],
  [refunded.gateway.id as string, JSON.stringify(refunded.gateway).replace(/("refund_info":\[\{[^\]]*?)"orig_mdr":"[^"]+"/, '$1"orig_mdr":"n/a"')],
]);
const byCharge: Behaviour = (request, response) => {
  const id = [...answers.keys()].find((key) => request.url?.includes(key));
  response.writeHead(id ? 200 : 404, { 'content-type': 'application/json' });
  response.end(id ? answers.get(id) : JSON.stringify({ object: 'error', code: 'charge_id_not_exist', message: 'no such charge' }));
};

let dir: string;
let gateway: HostileServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-untrusted-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv([withLedgerFees, withoutLedgerFees, refunded, flooded].flatMap((c) => c.ledger)));
  gateway = await startHostileServer('127.0.0.1');
});
afterAll(async () => {
  await gateway?.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (date: string, extra: { env?: Record<string, string>; nodeArgs?: string[] } = {}) =>
  runCli(['run', '--from', date, '--ledger', join(dir, 'ledger.csv'), '--out', join(dir, date)], {
    env: { DATABASE_URL: database.url, KPGW_BASE_URL: gateway.url, KPGW_SECRET_KEY: KEY, KPGW_MAX_RETRIES: '1', LOG_LEVEL: 'warn', ...extra.env },
    ...(extra.nodeArgs ? { nodeArgs: extra.nodeArgs } : {}),
  });

describe('a figure present but unreadable', () => {
  it('is a finding of the comparison it belongs to, its gateway value the text received', async () => {
    gateway.behaviour = byCharge;
    const result = await run(D1);
    expect(result.code, result.stderr).toBe(1);
    const findings = await database.db
      .selectFrom('recon_mismatches')
      .select(['charge_id', 'code', 'field', 'ledger_value', 'gateway_value'])
      .orderBy('charge_id')
      .orderBy('code')
      .execute();
    expect(findings).toEqual([
      { charge_id: 'chrg_test_fig-mdr', code: 'MDR_MISMATCH', field: 'orig_mdr', ledger_value: '10.00', gateway_value: '<b>9</b>' },
      { charge_id: 'chrg_test_fig-refund', code: 'REFUND_MDR_MISMATCH', field: 'refund_info[refd_test_fig-refund_1].orig_mdr', ledger_value: '2.50', gateway_value: 'n/a' },
      // No expected VAT (no fee rule, no ledger VAT): it is the gateway's own arithmetic that cannot be checked.
      { charge_id: 'chrg_test_fig-vat', code: 'SETTLEMENT_INCONSISTENT', field: 'orig_vat', ledger_value: null, gateway_value: '1e400' },
    ]);
    const statuses = await database.db.selectFrom('recon_charge_results').select(['charge_id', 'status']).orderBy('charge_id').execute();
    expect(statuses.map((s) => s.status)).toEqual(['MISMATCH', 'MISMATCH', 'MISMATCH']);
    expect(await readFile(join(dir, D1, 'mismatches.csv'), 'utf8')).toContain('MDR: ledger 10.00, gateway ""<b>9</b>"", which is not a number');
  }, 120_000);
});

describe('an answer of 100 MB', () => {
  it('is not read past 1 MiB: the charge unverified ("answer too large"), the run under 300 MB of memory', async () => {
    gateway.behaviour = flood(100 * 1024 * 1024);
    const rssFile = join(dir, 'rss');
    const result = await run(D2, { env: { BENCH_RSS_FILE: rssFile }, nodeArgs: ['--import', PEAK_RSS_REPORTER] });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/unverified 1/);
    const [finding] = await database.db.selectFrom('recon_mismatches').select(['code', 'message']).where('charge_id', '=', 'chrg_test_flood').execute();
    expect(finding).toMatchObject({ code: 'INQUIRY_FAILED', message: expect.stringContaining('answer too large (over 1 MiB, HTTP 200)') });
    expect(await peakRssMb(rssFile)).toBeLessThan(300);
  }, 120_000);
});
