import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { PLAN_COLUMNS } from '../ingest/plan-row.ts';
import { LEDGER_COLUMNS, type GatewayBody, type LedgerRow } from './charge-builder.ts';

export function ledgerCsv(rows: readonly LedgerRow[], columns: readonly string[] = LEDGER_COLUMNS): string {
  return stringify(rows as LedgerRow[], { header: true, columns: [...columns] });
}

export async function writeLedgerCsv(path: string, rows: Iterable<LedgerRow>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  out.write(ledgerCsv([]));
  for (const row of rows) {
    if (!out.write(stringify([row], { columns: [...LEDGER_COLUMNS] }))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The simulator's `--data` format: one full inquiry answer per line, streamed (a million charges make a file too big for one string). */
export async function writeJsonLines(path: string, bodies: Iterable<GatewayBody>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  for (const body of bodies) {
    if (!out.write(`${JSON.stringify(body)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export type PlanRow = Record<(typeof PLAN_COLUMNS)[number], string>;

export function planReportCsv(rows: readonly PlanRow[]): string {
  return stringify(rows as PlanRow[], { header: true, columns: [...PLAN_COLUMNS] });
}

/** `Installment Plan Report_<SupplierNo>_<DDMMYY><DDMMYY>.csv` for a period given as ISO dates. */
export function planReportFileName(supplierNo: string, from: string, to: string): string {
  const ddmmyy = (iso: string) => `${iso.slice(8, 10)}${iso.slice(5, 7)}${iso.slice(2, 4)}`;
  return `Installment Plan Report_${supplierNo}_${ddmmyy(from)}${ddmmyy(to)}.csv`;
}
