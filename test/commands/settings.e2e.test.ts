import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanLines, runCli, type CliResult } from '../helpers/cli.ts';

/**
 * Every wrong setting or path ends the real CLI with exit 2 and one line naming it, before the
 * database is opened: DATABASE_URL points at a port where nothing listens, so a check that came
 * too late would end in exit 3 ("unreachable") instead.
 */
const UNREACHABLE_DB = 'postgres://postgres@127.0.0.1:1/none';
const KEY = 'skey_test_settings_Qw3rTy9';

let dir: string;
const at = (...parts: string[]) => join(dir, ...parts);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-settings-'));
  await writeFile(at('ledger.csv'), 'entry_id,entry_type,reference_order,transaction_date,source_type,currency,amount\nE1,charge,ORD-1,2026-07-01,card,THB,10.00\n');
  execFileSync('mkfifo', [at('pipe')]);
  await mkdir(at('empty'));
  await mkdir(at('with-pipe'));
  await writeFile(at('with-pipe', 'a.csv'), 'entry_id\n');
  execFileSync('mkfifo', [at('with-pipe', 'b.csv')]);
  await mkdir(at('inbox', 'ledger'), { recursive: true });
  await mkdir(at('linked-out'));
  await symlink(at('ledger.csv'), at('linked-out', 'books.csv'));
  const merchant = (mid: string, more: Record<string, unknown> = {}) => ({ mid, key_env: 'KPGW_KEY_M', inbox: at('inbox'), ...more });
  const merchants = (...list: unknown[]) => JSON.stringify({ merchants: list });
  await writeFile(at('m-long.json'), merchants(merchant('M'.repeat(41))));
  await writeFile(at('m-twins.json'), merchants(merchant('Shop-A'), merchant('shop_a')));
  await writeFile(at('m-key-named.json'), merchants(merchant('M1', { skey_test_FieldNamedLikeAKey: 1 })));
  await writeFile(at('m-proc.json'), merchants(merchant('M1', { reports_dir: '/proc/kpgw-recon-m1' })));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string | undefined>;
  /** The one line on stderr, exactly; a RegExp where the operating system words the reason. */
  line: string | RegExp;
}

/** The CLI with the unreachable database (a check that hangs fails its case at the suite's hang guard). */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, { env: { DATABASE_URL: UNREACHABLE_DB, KPGW_SECRET_KEY: KEY, LOG_LEVEL: 'info', ...env } });
}

const run = (...args: string[]) => ['run', '--from', '2026-07-01', ...args];
const ledger = () => ['--ledger', at('ledger.csv')];

const cases = (): Case[] => [
  { name: 'a FIFO as --ledger', args: run('--ledger', at('pipe')), line: `kpgw-recon: ${at('pipe')}: not a regular file or folder (a FIFO)` },
  {
    name: 'a FIFO named .csv inside a --ledger folder',
    args: run('--ledger', at('with-pipe')),
    line: `kpgw-recon: ${at('with-pipe', 'b.csv')}: not a regular file (a FIFO)`,
  },
  { name: '/dev/zero as --ledger', args: run('--ledger', '/dev/zero'), line: 'kpgw-recon: /dev/zero: not a regular file or folder (a character device)' },
  { name: 'an empty --ledger folder', args: run('--ledger', at('empty')), line: `kpgw-recon: no ledger files (.csv) in ${at('empty')}` },
  { name: '--out naming a file', args: run(...ledger(), '--out', at('ledger.csv')), line: `kpgw-recon: --out ${at('ledger.csv')}: is a file, not a folder` },
  {
    // procfs takes no new folders, not even from root.
    name: '--out where no folder can be made',
    args: run(...ledger(), '--out', '/proc/kpgw-recon-reports'),
    line: /^kpgw-recon: --out \/proc\/kpgw-recon-reports: cannot be created \((ENOENT|EACCES|EPERM)\)$/,
  },
  {
    name: 'an inbox with an empty ledger folder (nightly)',
    args: ['nightly', '--date', '2026-07-01'],
    env: { RECON_INBOX: at('inbox') },
    line: `kpgw-recon: nightly: no ledger files in ${at('inbox', 'ledger')} (RECON_INBOX=${at('inbox')})`,
  },
  {
    name: 'export --out in a folder that does not exist',
    args: ['export', '--from', '2026-07-01', '--to', '2026-07-01', '--out', at('nowhere', 'x.csv')],
    line: `kpgw-recon: --out ${at('nowhere', 'x.csv')}: the folder ${at('nowhere')} does not exist`,
  },
  {
    name: 'an unknown LOG_LEVEL',
    args: run(...ledger()),
    env: { LOG_LEVEL: 'verbose' },
    line: "kpgw-recon: LOG_LEVEL 'verbose' is not a log level (one of trace, debug, info, warn, error, fatal, silent)",
  },
  {
    // Its --out passes its check (and must be left as it was: not there).
    name: 'a key with a line break in it',
    args: run(...ledger(), '--out', at('made', 'by', 'probe')),
    env: { KPGW_SECRET_KEY: 'skey_test_abc\ndef' },
    line: 'kpgw-recon: KPGW_SECRET_KEY is not a secret key: expected skey_prod_… or skey_test_…, printable ASCII without spaces',
  },
  {
    name: 'a RECON_REPORTS_DIR where no folder can be made (demo)',
    args: ['demo'],
    env: { RECON_REPORTS_DIR: '/proc/kpgw-recon-reports' },
    line: /^kpgw-recon: RECON_REPORTS_DIR \/proc\/kpgw-recon-reports: cannot be created \((ENOENT|EACCES|EPERM)\)$/,
  },
  { name: 'a --per-day that is not a number (demo)', args: ['demo', '--per-day', 'lots'], line: "kpgw-recon: demo: --per-day must be a whole number from 1 to 100000, got 'lots'" },
];

/** Hostile input (dates out of range, repeated flags, FIFOs, devices, links, merchants files): the same exit 2 and one line. */
const hostileCases = (): Case[] => [
  { name: 'a flag given twice', args: run(...ledger(), '--to', '2026-07-02', '--to', '2026-07-03'), line: 'kpgw-recon: run: --to is given more than once (see kpgw-recon run --help)' },
  { name: 'year 0000 (export)', args: ['export', '--from', '0000-01-01', '--to', '2026-07-01', '--out', at('x.csv')], line: "kpgw-recon: export: --from '0000-01-01' is outside the years a ledger may hold (1900 to 2200)" },
  { name: 'year 9999 (vat-report)', args: ['vat-report', '--month', '9999-12', '--out', at('x.csv')], line: "kpgw-recon: vat-report: --month '9999-12' is outside the years a ledger may hold (1900 to 2200)" },
  { name: 'year 9999 (open-items)', args: ['open-items', '--as-of', '9999-12-31'], line: "kpgw-recon: open-items: --as-of '9999-12-31' is outside the years a ledger may hold (1900 to 2200)" },
  { name: '--as-of before --from', args: run(...ledger(), '--as-of', '2026-06-30'), line: 'kpgw-recon: run: --as-of 2026-06-30 is before --from 2026-07-01' },
  { name: 'nightly --date after today', args: ['nightly', '--date', '2200-01-01'], line: /^kpgw-recon: nightly: --date 2200-01-01 is after today \(\d{4}-\d{2}-\d{2} in RECON_TZ\)$/ },
  { name: 'PGCONNECT_TIMEOUT not a number', args: run(...ledger()), env: { PGCONNECT_TIMEOUT: 'abc' }, line: "kpgw-recon: PGCONNECT_TIMEOUT must be a whole number from 1 to 600, got 'abc'" },
  { name: 'PGCONNECT_TIMEOUT that overflows a timer', args: run(...ledger()), env: { PGCONNECT_TIMEOUT: '2200000' }, line: "kpgw-recon: PGCONNECT_TIMEOUT must be a whole number from 1 to 600, got '2200000'" },
  { name: 'ack --file naming a FIFO', args: ['ack', '--file', at('pipe')], line: `kpgw-recon: ${at('pipe')}: the file is not a regular file (a FIFO)` },
  { name: 'ack --file /dev/zero', args: ['ack', '--file', '/dev/zero'], line: 'kpgw-recon: /dev/zero: the file is not a regular file (a character device)' },
  {
    name: 'a link out of the --ledger folder',
    args: run('--ledger', at('linked-out')),
    line: `kpgw-recon: ${at('linked-out', 'books.csv')}: a link to ${at('ledger.csv')}, outside the folder ${at('linked-out')}; links out of an input folder are not followed (give that file by its own path)`,
  },
  { name: 'RECON_MERCHANTS naming a FIFO (worker)', args: ['worker', '--once'], env: { RECON_MERCHANTS: at('pipe') }, line: `kpgw-recon: RECON_MERCHANTS ${at('pipe')}: the merchants file is not a regular file (a FIFO)` },
  { name: 'RECON_MERCHANTS naming a FIFO (enqueue)', args: ['enqueue', '--date', '2026-07-01'], env: { RECON_MERCHANTS: at('pipe') }, line: `kpgw-recon: RECON_MERCHANTS ${at('pipe')}: the merchants file is not a regular file (a FIFO)` },
  {
    name: 'a mid of 41 characters',
    args: ['worker', '--once'],
    env: { RECON_MERCHANTS: at('m-long.json') },
    line: `kpgw-recon: RECON_MERCHANTS ${at('m-long.json')}: merchant #1: mid must be 1 to 40 letters, digits, '_' or '-', starting with a letter or digit, got "${'M'.repeat(41)}"`,
  },
  {
    name: 'two mids equal but for case and - or _',
    args: ['enqueue', '--date', '2026-07-01'],
    env: { RECON_MERCHANTS: at('m-twins.json') },
    line: `kpgw-recon: RECON_MERCHANTS ${at('m-twins.json')}: merchants Shop-A and shop_a are the same mid once letter case, '-' and '_' are ignored; each merchant's data must be its own, so give one of them another mid`,
  },
  {
    name: 'a merchants-file field named like a key',
    args: ['worker', '--once'],
    env: { RECON_MERCHANTS: at('m-key-named.json') },
    line: `kpgw-recon: RECON_MERCHANTS ${at('m-key-named.json')}: merchant M1: a field is named with what looks like a secret key (not shown); keys never go in this file: put the key in an environment variable and its name in key_env`,
  },
  {
    name: 'a reports_dir under /proc (worker)',
    args: ['worker', '--once'],
    env: { RECON_MERCHANTS: at('m-proc.json'), KPGW_KEY_M: 'skey_test_proc_0123456789' },
    line: /^kpgw-recon: merchant M1: reports_dir \/proc\/kpgw-recon-m1: cannot be created \((ENOENT|EACCES|EPERM)\)$/,
  },
];

describe('a wrong setting or path is exit 2 with one line, before the database or the gateway', () => {
  it('for every case in the table', async () => {
    await expectExit2(cases());
    // The probe of a folder that did not exist removes the probe file and the folders it made.
    expect(await readdir(dir)).not.toContain('made');
  });

  it('for every case of hostile input', async () => {
    await expectExit2(hostileCases());
  });
});

/** Runs the cases, four child processes at a time, and expects each to end with exit 2 and its one line. */
async function expectExit2(table: Case[]): Promise<void> {
  const results: CliResult[] = [];
  // Four child processes at a time: each is mostly start-up, and the machine is shared.
  for (let i = 0; i < table.length; i += 4) {
    const batch = table.slice(i, i + 4);
    results.push(...(await Promise.all(batch.map((c) => cli(c.args, c.env)))));
  }
  table.forEach((c, i) => {
    const result = results[i]!;
    expect(result.code, `${c.name}: ${result.stderr}`).toBe(2);
    const lines = humanLines(result.stderr);
    expect(lines, c.name).toHaveLength(1);
    if (typeof c.line === 'string') expect(lines[0], c.name).toBe(c.line);
    else expect(lines[0], c.name).toMatch(c.line);
    // Everything else on stderr is a JSON log line, and the key is in none of it.
    for (const other of result.stderr.split('\n').filter((l: string) => l.trim() && l !== lines[0])) expect(() => JSON.parse(other), c.name).not.toThrow();
    expect(result.stderr, c.name).not.toContain('abc\ndef');
    expect(result.stderr.toLowerCase(), c.name).not.toContain('skey_test_fieldnamedlikeakey');
  });
}
