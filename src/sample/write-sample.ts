import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSample, type SampleData, type SampleOptions } from './generate-sample.ts';
import { writeJsonLines, writeLedgerCsv } from './sample-files.ts';

export interface SampleFiles {
  dir: string;
  ledger: string;
  plans: string;
  fees: string;
  gateway: string;
  data: SampleData;
}

/**
 * The sample as files, laid out like a nightly inbox: `ledger/orders.csv`, `plans/…`,
 * `fees.json`, plus `gateway.jsonl` for the simulator's `--data`.
 */
export async function writeSample(dir: string, options: SampleOptions & { badRows?: boolean }): Promise<SampleFiles> {
  const data = generateSample(options);
  const files = {
    dir,
    ledger: join(dir, 'ledger', 'orders.csv'),
    plans: join(dir, 'plans', data.plans.fileName),
    fees: join(dir, 'fees.json'),
    gateway: join(dir, 'gateway.jsonl'),
  };
  await mkdir(join(dir, 'plans'), { recursive: true });
  await writeLedgerCsv(files.ledger, options.badRows === false ? data.ledger : [...data.ledger, ...data.badLedgerRows]);
  await writeFile(files.plans, data.plans.csv);
  await writeFile(files.fees, `${JSON.stringify(data.fees, null, 2)}\n`);
  await writeJsonLines(files.gateway, data.gateway);
  return { ...files, data };
}
