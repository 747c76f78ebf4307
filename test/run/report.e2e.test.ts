import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

/**
 * A full disk while the reports are written: the run is not recorded `finished` (its findings
 * would reach no one), it ends aborted with one line, and no report file is left. The disk is a
 * tmpfs of its own, mounted in a mount namespace of the run's own (`unshare`: no root needed
 * where user namespaces are allowed), with room for the staging folder and six files but no
 * seventh: the report's last file, run.json, is the one that does not fit.
 */
const database = await createTestDatabase();
const KEY = 'skey_test_disk_full_0123456789';
const D = '2026-07-01';
const charges = [1, 2].map((i) => buildCharge({ key: `full-${i}`, date: D, amount: `${i}00.00` }));
/** The tmpfs's root, the staging folder, and six of the report's seven files. */
const INODES = 1 + 1 + 6;
let dir: string;
let simulator: Simulator;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpgw-disk-full-'));
  await mkdir(join(dir, 'disk'));
  await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway), today: D });
});
afterAll(async () => {
  await simulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a disk that fills while the reports are written', () => {
  it('leaves the run aborted, not finished, with one line and no report files', async () => {
    const disk = join(dir, 'disk');
    // Mount, run, then list what the disk holds (the mount goes with the namespace).
    const script = `mount -t tmpfs -o size=8m,nr_inodes=${INODES} tmpfs "$DISK" && "$@"; code=$?; ls -A "$DISK" > "$LISTING"; exit $code`;
    const result = await runCli(['run', '--from', D, '--ledger', join(dir, 'ledger.csv'), '--out', join(disk, 'out')], {
      prefix: ['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh'],
      env: { DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, LOG_LEVEL: 'warn', DISK: disk, LISTING: join(dir, 'listing') },
    });
    expect(result.code, result.stderr).toBe(3);
    expect(humanLines(result.stderr)).toEqual([
      `kpgw-recon: the reports cannot be written to ${join(disk, 'out')} (ENOSPC: no space left on device); the run is not recorded as finished`,
    ]);
    const runs = await database.db.selectFrom('recon_runs').select(['status', 'exit_code']).execute();
    expect(runs).toEqual([{ status: 'aborted', exit_code: 3 }]);
    // Its results were not kept either: a later run starts afresh and reports them as new.
    expect(await database.db.selectFrom('recon_charge_results').select('charge_id').execute()).toEqual([]);
    expect(await readFile(join(dir, 'listing'), 'utf8')).toBe('');
  }, 120_000);
});
