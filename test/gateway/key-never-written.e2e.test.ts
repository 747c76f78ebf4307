import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { answerText, redirect, startHostileServer, type HostileServer } from './hostile-gateway.ts';

/**
 * A gateway that writes the key back: in a charge's `failure_message`, as its `source.brand`
 * (upper-cased) and in a field of its own (lower-cased); in an error body; in the host of a
 * redirect (lower-cased, as a host name is). After runs against it and the finance outputs, no
 * file, no line of output and no row of any table holds the key, in any letter case.
 */
const database = await createTestDatabase();
const KEY = 'skey_test_Ech0edBackByTheGateway42';
const DAYS = ['2026-07-01', '2026-07-02', '2026-07-03'];
const charges = DAYS.map((date, i) => buildCharge({ key: `echo-${i}`, date, amount: '300.00' }));
let dir: string;
let gateway: HostileServer;
const outputs: CliResult[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-key-echo-'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  gateway = await startHostileServer('127.0.0.1');
});
afterAll(async () => {
  await gateway?.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<CliResult> {
  const result = await runCli(args, {
    env: { DATABASE_URL: database.url, KPGW_BASE_URL: gateway.url, KPGW_SECRET_KEY: KEY, KPGW_MAX_RETRIES: '0', RECON_REPORTS_DIR: join(dir, 'reports'), LOG_LEVEL: 'debug' },
  });
  outputs.push(result);
  return result;
}
const run = (day: number) => cli(['run', '--from', DAYS[day]!, '--ledger', join(dir, 'ledger.csv'), '--out', join(dir, `out-${day}`)]);

/** Every file under `root`, as text. */
async function filesUnder(root: string): Promise<{ path: string; text: string }[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((e) => e.isFile()).map(async (e) => ({ path: join(e.parentPath, e.name), text: await readFile(join(e.parentPath, e.name), 'latin1') })));
}

/** Every row of every table of the database, in every schema, as text: a dump of its data. */
async function dumpAllTables(): Promise<string[]> {
  const { rows: tables } = await sql<{ schema: string; name: string }>`
    SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`.execute(database.db);
  const dump: string[] = [];
  for (const t of tables) {
    const { rows } = await sql<{ row: string }>`SELECT t::text AS row FROM ${sql.table(`${t.schema}.${t.name}`)} t`.execute(database.db);
    dump.push(...rows.map((r) => `${t.schema}.${t.name}: ${r.row}`));
  }
  return dump;
}

describe('the secret key, echoed by the gateway', () => {
  it('is written nowhere: not in a report, an export, a log line, an error or the database', async () => {
    const source = charges[0]!.gateway.source as Record<string, unknown>;
    gateway.behaviour = answerText(200, JSON.stringify({
      ...charges[0]!.gateway,
      status: 'fail',
      failure_code: 'card_declined',
      failure_message: `Do not honor (merchant ${KEY})`,
      source: { ...source, brand: KEY.toUpperCase() },
      metadata: { note: KEY.toLowerCase() },
    }));
    const echoed = await run(0);
    expect(echoed.code, echoed.stderr).toBe(1);
    // The finding is still reported, with the key taken out of the gateway's words.
    const mismatches = await readFile(join(dir, 'out-0', 'mismatches.csv'), 'utf8');
    expect(mismatches).toContain('gateway reports the charge failed (card_declined: Do not honor (merchant [REDACTED]))');

    gateway.behaviour = redirect(302, (path) => `http://${KEY.toLowerCase()}.example.com${path}`);
    const redirected = await run(1);
    expect(redirected.code, redirected.stderr).toBe(3);

    gateway.behaviour = answerText(400, JSON.stringify({ object: 'error', code: 'invalid_parameter', message: `no such key: ${KEY}` }));
    const refused = await run(2);
    expect(refused.code, refused.stderr).toBe(0);

    const [from, to] = [DAYS[0]!, DAYS[2]!];
    // Each writes its file (exit 1: findings, or dates no finished run covers).
    for (const args of [
      ['export', '--from', from, '--to', to, '--out', join(dir, 'export.csv')],
      ['open-items', '--out', join(dir, 'open-items.csv')],
      ['vat-report', '--month', from.slice(0, 7), '--out', join(dir, 'vat.csv')],
    ]) {
      const result = await cli(args);
      expect([0, 1], `${args[0]}: ${result.stderr}`).toContain(result.code);
    }

    const key = KEY.toLowerCase();
    const files = await filesUnder(dir);
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining([join(dir, 'out-0', 'report.html'), join(dir, 'export.csv'), join(dir, 'open-items.csv')]));
    for (const file of files) expect(file.text.toLowerCase().includes(key), file.path).toBe(false);
    for (const output of outputs) {
      expect(output.stdout.toLowerCase().includes(key)).toBe(false);
      expect(output.stderr.toLowerCase().includes(key)).toBe(false);
    }
    const dump = await dumpAllTables();
    expect(dump.some((row) => row.includes('gateway_inquiries') && row.includes('[REDACTED]'))).toBe(true);
    expect(dump.filter((row) => row.toLowerCase().includes(key))).toEqual([]);
  }, 180_000);
});
