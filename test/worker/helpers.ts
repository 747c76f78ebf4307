import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildCharge, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import type { Kysely } from 'kysely';
import { afterAll } from 'vitest';
import { createKysely } from '../../src/db/connection.ts';
import type { Database } from '../../src/db/database.ts';
import { urlForMerchant } from '../../src/db/merchant.ts';
import { migrate } from '../../src/db/migrate.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';

/** A merchant of a test: its inbox (ledger of `charges`), key and the merchants-file entry. */
export interface TestMerchant {
  readonly mid: string;
  readonly key: string;
  readonly keyEnv: string;
  readonly inbox: string;
  readonly reportsDir: string;
  readonly charges: SampleCharge[];
}

/** `count` settled card charges a day, for each of `dates`; ids carry the MID, so no two merchants share one. */
export async function testMerchant(root: string, mid: string, dates: readonly string[], count: number): Promise<TestMerchant> {
  const charges = dates.flatMap((date) =>
    Array.from({ length: count }, (_, i) => buildCharge({ key: `${mid}_${date.replaceAll('-', '')}_${String(i).padStart(4, '0')}`, date, amount: `${100 + i}.00` })),
  );
  const inbox = join(root, mid, 'inbox');
  await mkdir(join(inbox, 'ledger'), { recursive: true });
  await writeFile(join(inbox, 'ledger', 'books.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
  return { mid, key: `skey_test_${mid}_0123456789`, keyEnv: `KPGW_KEY_${mid}`, inbox, reportsDir: join(root, mid, 'reports'), charges };
}

/** Writes the merchants file; `extra` adds fields per merchant (rate limit, base URL…). */
export async function writeMerchantsFile(path: string, merchants: readonly TestMerchant[], extra: (m: TestMerchant) => Record<string, unknown>): Promise<void> {
  const entries = merchants.map((m) => ({ mid: m.mid, key_env: m.keyEnv, inbox: m.inbox, reports_dir: m.reportsDir, ...extra(m) }));
  await writeFile(path, JSON.stringify({ merchants: entries }, null, 2));
}

/** Every merchant's key in the variable its key_env names. */
export function keysEnv(merchants: readonly TestMerchant[]): Record<string, string> {
  return Object.fromEntries(merchants.map((m) => [m.keyEnv, m.key]));
}

/** A `kpgw-recon worker` child process, and its end. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
}

export async function startWorker(args: string[], env: Record<string, string>): Promise<WorkerProcess> {
  let child: ChildProcess | undefined;
  const done = runCli(['worker', ...args], { env, onSpawn: (c) => (child = c) });
  while (!child) await sleep(1);
  return { child, done };
}

/**
 * The tables of merchant `mid` in the test's database: a schema of its own, created now so it
 * can be polled before a worker first writes to it. Call at the top level of a test file.
 */
export async function merchantTables(url: string, mid: string): Promise<Kysely<Database>> {
  const merchantUrl = urlForMerchant(url, mid);
  await migrate(merchantUrl);
  const db = createKysely(merchantUrl);
  afterAll(() => db.destroy());
  return db;
}
