import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toleranceFlag } from '../../src/commands/run-flags.ts';
import { asOfFlag, isoDateFlag, isoMonthFlag, nightFlag, parseFlags, wholeNumberFlag } from '../../src/commands/command.ts';
import { loadConfig, requireSecretKey } from '../../src/config/config.ts';
import { checkCsvInputs, encodingOf, expandCsvPaths } from '../../src/ingest/inputs.ts';
import { checkInputFile } from '../../src/input-file.ts';
import { loadLedgerMap } from '../../src/ingest/ledger-columns.ts';
import { checkReportDir, checkWritableDir, checkWritableFile } from '../../src/report/output-dir.ts';

/**
 * The checks every command makes before it opens the database, called directly: the table of
 * every bound and every kind of path. settings.e2e.test.ts shows the CLI turning them into exit 2.
 */
let dir: string;
const at = (...parts: string[]) => join(dir, ...parts);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-preflight-'));
  await writeFile(at('file.csv'), 'entry_id\n');
  execFileSync('mkfifo', [at('pipe')]);
  await mkdir(at('empty'));
  await mkdir(at('dangling'));
  await symlink(at('nothing-here'), at('dangling', 'gone.csv'));
  await mkdir(at('folder-named-csv', 'inner.csv'), { recursive: true });
  await mkdir(at('linked'));
  await writeFile(at('linked', 'books.data'), 'entry_id\n');
  await symlink(at('linked', 'books.data'), at('linked', 'link.csv'));
  await writeFile(at('linked', 'README.txt'), 'not a ledger');
  await mkdir(at('linked-out'));
  await symlink(at('file.csv'), at('linked-out', 'link.csv'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('environment settings (loadConfig)', () => {
  const bad: [Record<string, string>, string][] = [
    [{ KPGW_RATE_LIMIT_RPS: '0' }, "KPGW_RATE_LIMIT_RPS must be a number above 0 and at most 10000, got '0'"],
    [{ KPGW_RATE_LIMIT_RPS: '10001' }, "KPGW_RATE_LIMIT_RPS must be a number above 0 and at most 10000, got '10001'"],
    [{ KPGW_RATE_LIMIT_RPS: 'Infinity' }, "KPGW_RATE_LIMIT_RPS must be a number above 0 and at most 10000, got 'Infinity'"],
    [{ KPGW_RATE_LIMIT_RPS: '-5' }, "KPGW_RATE_LIMIT_RPS must be a number above 0 and at most 10000, got '-5'"],
    [{ KPGW_CONCURRENCY: '0' }, "KPGW_CONCURRENCY must be a whole number from 1 to 256, got '0'"],
    [{ KPGW_CONCURRENCY: '257' }, "KPGW_CONCURRENCY must be a whole number from 1 to 256, got '257'"],
    [{ KPGW_CONCURRENCY: '1e1' }, "KPGW_CONCURRENCY must be a whole number from 1 to 256, got '1e1'"],
    [{ KPGW_TIMEOUT_MS: '99' }, "KPGW_TIMEOUT_MS must be a whole number from 100 to 600000, got '99'"],
    [{ KPGW_TIMEOUT_MS: '2147483648' }, "KPGW_TIMEOUT_MS must be a whole number from 100 to 600000, got '2147483648'"],
    [{ KPGW_TIMEOUT_MS: '0x400' }, "KPGW_TIMEOUT_MS must be a whole number from 100 to 600000, got '0x400'"],
    [{ KPGW_MAX_RETRIES: '21' }, "KPGW_MAX_RETRIES must be a whole number from 0 to 20, got '21'"],
    [{ KPGW_MAX_RETRIES: '2.5' }, "KPGW_MAX_RETRIES must be a whole number from 0 to 20, got '2.5'"],
    [{ RECON_REFUND_GRACE_DAYS: '366' }, "RECON_REFUND_GRACE_DAYS must be a whole number from 0 to 365, got '366'"],
    [{ RECON_OPEN_MAX_DAYS: '0' }, "RECON_OPEN_MAX_DAYS must be a whole number from 1 to 3650, got '0'"],
    [{ RECON_RECHECK_AGES: '7,0' }, "RECON_RECHECK_AGES must be a whole number from 1 to 3650, got '0'"],
    [{ RECON_RECHECK_AGES: '7,99999' }, "RECON_RECHECK_AGES must be a whole number from 1 to 3650, got '99999'"],
    [{ RECON_MAX_REQUESTS: '0' }, "RECON_MAX_REQUESTS must be a whole number from 1 to 10000000, got '0'"],
    [{ RECON_NOTIFY_GRACE_HOURS: '721' }, "RECON_NOTIFY_GRACE_HOURS must be a whole number from 0 to 720, got '721'"],
    [{ RECON_NOTIFY_GRACE_HOURS: '1.5' }, "RECON_NOTIFY_GRACE_HOURS must be a whole number from 0 to 720, got '1.5'"],
    [{ PGCONNECT_TIMEOUT: 'abc' }, "PGCONNECT_TIMEOUT must be a whole number from 1 to 600, got 'abc'"],
    // Seconds that, as milliseconds, overflow a timer (to 1 ms) unless refused.
    [{ PGCONNECT_TIMEOUT: '2200000' }, "PGCONNECT_TIMEOUT must be a whole number from 1 to 600, got '2200000'"],
    [{ PGCONNECT_TIMEOUT: '0' }, "PGCONNECT_TIMEOUT must be a whole number from 1 to 600, got '0'"],
    [{ LOG_LEVEL: 'verbose' }, "LOG_LEVEL 'verbose' is not a log level (one of trace, debug, info, warn, error, fatal, silent)"],
    [{ DATABASE_URL: 'mysql://admin:hunter2@db/books' }, 'DATABASE_URL is not a PostgreSQL URL (postgres://user@host:5432/database)'],
    [{ DATABASE_URL: 'host=db user=admin password=hunter2' }, 'DATABASE_URL is not a PostgreSQL URL (postgres://user@host:5432/database)'],
  ];
  it.each(bad)('refuses %j with one line naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'CONFIG', message }));
  });

  it('takes the values at the bounds, and a level in capitals', () => {
    const config = loadConfig({
      KPGW_RATE_LIMIT_RPS: '0.5',
      KPGW_CONCURRENCY: '256',
      KPGW_TIMEOUT_MS: '100',
      KPGW_MAX_RETRIES: '0',
      RECON_REFUND_GRACE_DAYS: '0',
      RECON_RECHECK_AGES: '1, 3650',
      RECON_OPEN_MAX_DAYS: '3650',
      RECON_MAX_REQUESTS: '10000000',
      RECON_NOTIFY_GRACE_HOURS: '0',
      LOG_LEVEL: 'WARN',
      DATABASE_URL: 'postgresql:///books?host=/var/run/postgresql',
    });
    expect(config.kpgw).toMatchObject({ rateLimitRps: 0.5, concurrency: 256, timeoutMs: 100, maxRetries: 0 });
    expect(config.recon).toMatchObject({ refundGraceDays: 0, recheckAges: [1, 3650], openMaxDays: 3650, maxRequests: 10_000_000, notifyGraceHours: 0 });
    expect(loadConfig({}).recon.notifyGraceHours).toBe(24);
    expect(config.logLevel).toBe('warn');
    expect(loadConfig({ KPGW_RATE_LIMIT_RPS: '10000', KPGW_TIMEOUT_MS: '600000', KPGW_MAX_RETRIES: '20', LOG_LEVEL: 'silent' }).kpgw)
      .toMatchObject({ rateLimitRps: 10_000, timeoutMs: 600_000, maxRetries: 20 });
  });
});

describe('the secret key (requireSecretKey)', () => {
  const message = 'KPGW_SECRET_KEY is not a secret key: expected skey_prod_… or skey_test_…, printable ASCII without spaces';
  it.each([
    'skey_test_abc\ndef',
    'skey_test_abc def',
    'skey_test_กขค',
    'skey_test_abc\u0000',
    'skey_live_abc',
    'pkey_test_abc',
    'skey_test_',
  ])('refuses %j without showing it', (key) => {
    expect(() => requireSecretKey(loadConfig({ KPGW_SECRET_KEY: key }))).toThrow(expect.objectContaining({ code: 'CONFIG', message }));
  });

  it('takes test and production keys, and trims a line break at the end (an env file)', () => {
    for (const key of ['skey_test_5fQ9xKp2ZrLw7VnB3mHd', 'skey_prod_41Bbw6At8dJjVyKV3ZaXghhLpRro5oAtR', 'skey_test_a-b.c_d~e!', 'skey_test_x\r\n']) {
      expect(() => requireSecretKey(loadConfig({ KPGW_SECRET_KEY: key })), key).not.toThrow();
    }
  });
});

describe('input paths', () => {
  it('refuses what is not a regular file or a folder, and a .csv entry of a folder that is not a file', async () => {
    await expect(expandCsvPaths([at('pipe')])).rejects.toMatchObject({ code: 'INPUT', message: `${at('pipe')}: not a regular file or folder (a FIFO)` });
    await expect(expandCsvPaths(['/dev/null'])).rejects.toMatchObject({ message: '/dev/null: not a regular file or folder (a character device)' });
    await expect(expandCsvPaths([at('dangling')])).rejects.toMatchObject({ message: `${at('dangling', 'gone.csv')}: a broken link or vanished file` });
    await expect(expandCsvPaths([at('folder-named-csv')])).rejects.toMatchObject({ message: `${at('folder-named-csv', 'inner.csv')}: not a regular file (a folder)` });
    await expect(expandCsvPaths([at('file.csv', 'below')])).rejects.toMatchObject({ message: `${at('file.csv', 'below')}: no such file or folder` });
  });

  it('reads a link to a file in the same folder, and ignores files that are not .csv', async () => {
    expect(await expandCsvPaths([at('linked')])).toEqual([at('linked', 'link.csv')]);
  });

  it('refuses a link out of the folder, naming where it points', async () => {
    await expect(expandCsvPaths([at('linked-out')])).rejects.toMatchObject({
      code: 'INPUT',
      message: `${at('linked-out', 'link.csv')}: a link to ${at('file.csv')}, outside the folder ${at('linked-out')}; links out of an input folder are not followed (give that file by its own path)`,
    });
  });

  it('every CSV reader refuses a FIFO or a device before opening it', async () => {
    await expect(encodingOf(at('pipe'))).rejects.toMatchObject({ code: 'INPUT', message: `${at('pipe')}: the file is not a regular file (a FIFO)` });
    await expect(encodingOf('/dev/zero')).rejects.toMatchObject({ code: 'INPUT', message: '/dev/zero: the file is not a regular file (a character device)' });
  });

  it('refuses a folder that holds no .csv file, naming what was expected', async () => {
    await expect(checkCsvInputs([at('file.csv'), at('empty')], 'ledger files')).rejects.toMatchObject({ code: 'INPUT', message: `no ledger files (.csv) in ${at('empty')}` });
    await expect(checkCsvInputs([at('empty')], 'plan reports')).rejects.toMatchObject({ message: `no plan reports (.csv) in ${at('empty')}` });
    await expect(checkCsvInputs([at('file.csv'), at('linked')], 'ledger files')).resolves.toBeUndefined();
    await expect(checkCsvInputs([at('linked-out')], 'ledger files')).rejects.toMatchObject({ code: 'INPUT' });
  });

  it('a single input file must be a regular file that exists', async () => {
    await expect(checkInputFile(at('pipe'), 'the fee schedule')).rejects.toMatchObject({ code: 'INPUT', message: `${at('pipe')}: the fee schedule is not a regular file (a FIFO)` });
    await expect(checkInputFile(at('empty'), 'the fee schedule')).rejects.toMatchObject({ message: `${at('empty')}: the fee schedule is not a regular file (a folder)` });
    await expect(checkInputFile(at('none.json'), 'the fee schedule')).rejects.toMatchObject({ message: `${at('none.json')}: the fee schedule does not exist` });
    await expect(checkInputFile(at('file.csv'), 'the fee schedule')).resolves.toBeUndefined();
  });
});

describe('the ledger map', () => {
  const map = async (name: string, json: unknown) => {
    await writeFile(at(name), JSON.stringify(json));
    return loadLedgerMap(at(name));
  };

  it('refuses an empty header and two fields on one header (as matched: trimmed, any case)', async () => {
    await expect(map('empty-value.json', { entry_id: '  ' })).rejects.toMatchObject({ code: 'INPUT', message: `${at('empty-value.json')}: the header for 'entry_id' is empty` });
    await expect(map('twice.json', { entry_id: 'ID', charge_id: ' id ' })).rejects.toMatchObject({
      message: `${at('twice.json')}: 'entry_id' and 'charge_id' are both mapped to ' id '`,
    });
  });

  it('refuses a map that is not a regular file without opening it', async () => {
    await expect(loadLedgerMap(at('pipe'))).rejects.toMatchObject({ message: `${at('pipe')}: the ledger map is not a regular file (a FIFO)` });
  });

  it('takes a map of distinct, non-empty headers', async () => {
    await expect(map('good.json', { entry_id: 'เลขที่', charge_id: 'Charge' })).resolves.toEqual({ entry_id: 'เลขที่', charge_id: 'Charge' });
  });
});

describe('output paths', () => {
  it('refuses a report folder that is a file, a FIFO, below a file, or cannot be made; the message names the setting', async () => {
    await expect(checkWritableDir(at('file.csv'), '--out')).rejects.toMatchObject({ code: 'USAGE', message: `--out ${at('file.csv')}: is a file, not a folder` });
    await expect(checkWritableDir(at('pipe'), '--out')).rejects.toMatchObject({ message: `--out ${at('pipe')}: is a FIFO, not a folder` });
    await expect(checkReportDir(undefined, at('pipe', 'reports'))).rejects.toMatchObject({
      code: 'CONFIG',
      message: `RECON_REPORTS_DIR ${at('pipe', 'reports')}: cannot be created (part of the path is not a folder)`,
    });
    await expect(checkReportDir('', at('reports'))).rejects.toMatchObject({ message: '--out is empty (a folder for the reports)' });
    // procfs refuses new folders with ENOENT (root) or EACCES; Node's recursive mkdir loops on it.
    await expect(checkWritableDir('/proc/kpgw-recon-test/a/b', '--out')).rejects.toMatchObject({ message: expect.stringMatching(/^--out \/proc\/kpgw-recon-test\/a\/b: cannot be created \(E[A-Z]+\)$/) });
  });

  it('leaves an existing folder as it was and removes the folders it made', async () => {
    await checkWritableDir(at('empty'), '--out');
    expect(await readdir(at('empty'))).toEqual([]);
    await checkReportDir(at('new', 'deeper', 'still'), at('unused'));
    const names = await readdir(dir);
    expect(names).not.toContain('new');
    expect(names).not.toContain('unused');
  });

  it('makes and keeps a folder that several processes make at once (workers starting together)', async () => {
    // Twenty at once over the same new folders: whoever's mkdir loses to another's finds a folder.
    const folder = at('together', 'merchant', 'reports');
    await Promise.all(Array.from({ length: 20 }, () => checkWritableDir(folder, 'reports_dir', { keep: true })));
    expect(await readdir(folder)).toEqual([]);
  });

  it('export --out: a file, or a new name, in a folder that exists', async () => {
    await expect(checkWritableFile(at('pipe'), '--out')).rejects.toMatchObject({ message: `--out ${at('pipe')}: is a FIFO, not a file` });
    await expect(checkWritableFile(at('empty'), '--out')).rejects.toMatchObject({ message: `--out ${at('empty')}: is a folder, not a file` });
    await expect(checkWritableFile(at('nowhere', 'x.csv'), '--out')).rejects.toMatchObject({ message: `--out ${at('nowhere', 'x.csv')}: the folder ${at('nowhere')} does not exist` });
    await expect(checkWritableFile(at('file.csv', 'x.csv'), '--out')).rejects.toMatchObject({ message: `--out ${at('file.csv', 'x.csv')}: ${at('file.csv')} is a file, not a folder` });
    await expect(checkWritableFile(at('file.csv'), '--out')).resolves.toBeUndefined();
    await expect(checkWritableFile(at('new.csv'), '--out')).resolves.toBeUndefined();
    expect(await readdir(dir)).not.toContain('new.csv');
  });
});

describe('numeric flags', () => {
  it.each(['-0.01', '0.001', '1000.01', '1e3', 'abc', ''])('--tolerance %j is refused', (value) => {
    expect(() => toleranceFlag('run', value)).toThrow(
      expect.objectContaining({ code: 'USAGE', message: `run: --tolerance '${value}' must be an amount from 0.00 to 1000.00 with at most 2 decimals, such as 0.01` }),
    );
  });

  it('--tolerance takes 0 to 1000.00 and defaults to 0.00', () => {
    expect(toleranceFlag('run', '1000.00').toFixed(2)).toBe('1000.00');
    expect(toleranceFlag('run', '0.5').toFixed(2)).toBe('0.50');
    expect(toleranceFlag('run', undefined).toFixed(2)).toBe('0.00');
  });

  it('a whole-number flag is digits within its bounds', () => {
    const bounds = { min: 1, max: 100_000 };
    for (const value of ['0', '100001', '-1', '1.5', '1e3', ' 7', 'lots']) {
      expect(() => wholeNumberFlag('demo', 'per-day', value, 1000, bounds), value).toThrow(
        expect.objectContaining({ code: 'USAGE', message: `demo: --per-day must be a whole number from 1 to 100000, got '${value}'` }),
      );
    }
    expect(wholeNumberFlag('demo', 'per-day', '100000', 1000, bounds)).toBe(100_000);
    expect(wholeNumberFlag('demo', 'per-day', undefined, 1000, bounds)).toBe(1000);
  });
});

describe('date flags', () => {
  it.each(['0000-01-01', '9999-12-31', '1899-12-31', '2201-01-01'])('%s is refused: outside the years a ledger may hold', (value) => {
    expect(() => isoDateFlag('export', 'from', value)).toThrow(
      expect.objectContaining({ code: 'USAGE', message: `export: --from '${value}' is outside the years a ledger may hold (1900 to 2200)` }),
    );
  });

  it('the same range for a month', () => {
    expect(() => isoMonthFlag('vat-report', 'month', '0000-01')).toThrow(expect.objectContaining({ code: 'USAGE', message: "vat-report: --month '0000-01' is outside the years a ledger may hold (1900 to 2200)" }));
    expect(() => isoMonthFlag('vat-report', 'month', '2026-13')).toThrow(expect.objectContaining({ message: "vat-report: --month '2026-13' is not a month (YYYY-MM)" }));
    expect(isoMonthFlag('vat-report', 'month', '2200-12')).toBe('2200-12');
    expect(isoDateFlag('export', 'to', '1900-01-01')).toBe('1900-01-01');
  });

  it('--as-of before --from is refused; not given, it is today', () => {
    expect(() => asOfFlag('run', '2026-06-30', '2026-07-01', '2026-12-07')).toThrow(expect.objectContaining({ code: 'USAGE', message: 'run: --as-of 2026-06-30 is before --from 2026-07-01' }));
    expect(asOfFlag('run', '2026-07-01', '2026-07-01', '2026-12-07')).toBe('2026-07-01');
    expect(asOfFlag('run', undefined, '2026-07-01', '2026-12-07')).toBe('2026-12-07');
  });

  it('a night after today is refused; today is a night', () => {
    expect(() => nightFlag('nightly', '2026-12-08', '2026-12-07')).toThrow(expect.objectContaining({ code: 'USAGE', message: 'nightly: --date 2026-12-08 is after today (2026-12-07 in RECON_TZ)' }));
    expect(nightFlag('nightly', '2026-12-07', '2026-12-07')).toBe('2026-12-07');
  });
});

describe('flags given twice', () => {
  it('are refused, naming the flag', () => {
    expect(() => parseFlags('export', ['--from', '2026-07-01', '--from', '2026-07-02'], { from: { type: 'string' } })).toThrow(
      expect.objectContaining({ code: 'USAGE', message: 'export: --from is given more than once (see kpgw-recon export --help)' }),
    );
    expect(() => parseFlags('worker', ['--once', '--once'], { once: { type: 'boolean' } })).toThrow(expect.objectContaining({ message: 'worker: --once is given more than once (see kpgw-recon worker --help)' }));
  });

  it('except the ones that repeat by design', () => {
    expect(parseFlags('run', ['--ledger', 'a.csv', '--ledger', 'b.csv'], { ledger: { type: 'string', multiple: true } })).toEqual({ ledger: ['a.csv', 'b.csv'] });
  });
});
