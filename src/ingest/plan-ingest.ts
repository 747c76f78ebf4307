import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { csvRecords } from './csv-records.ts';
import { NotUtf8Error, unreadablePart, utf8Chunks, withoutMarkers, type TextEncoding } from './decode.ts';
import { encodingOf, expandCsvPaths } from './inputs.ts';
import { mapPlanHeader, readPlanReportName, readPlanRow, type PlanReportName } from './plan-row.ts';
import type { InstallmentPlanTable } from './plan.table.ts';
import type { RejectedRow } from './rejected.ts';

export interface PlanIngestReport {
  files: number;
  /** Data rows read, stored or rejected. */
  rows: number;
  rejected: RejectedRow[];
  /** Suppliers whose plans were (re)placed, in file order. */
  suppliers: string[];
}

const INSERT_BATCH = 500;

/**
 * Imports Installment Plan Reports (contract §3.2). Each file replaces its supplier's plans in
 * one transaction; bad rows are rejected, a bad file name or missing column is a usage error.
 */
export async function ingestPlanReports(
  db: Kysely<Database>,
  paths: readonly string[],
  options: { logger: Logger },
): Promise<PlanIngestReport> {
  const files = await expandCsvPaths(paths);
  const report: PlanIngestReport = { files: files.length, rows: 0, rejected: [], suppliers: [] };
  for (const file of files) {
    const named = readPlanReportName(file);
    if (!named.ok) throw new ReconError('INPUT', `${file}: ${named.problem}`);
    const encoding = await encodingOf(file);
    let result: { rows: number; rejected: RejectedRow[] };
    try {
      result = await ingestReport(db, file, named.name, encoding);
    } catch (error) {
      if (!(error instanceof NotUtf8Error)) throw error;
      result = await ingestReport(db, file, named.name, 'win874');
    }
    report.rows += result.rows;
    report.rejected.push(...result.rejected);
    if (report.suppliers.includes(named.name.supplierNo)) {
      options.logger.warn({ file, supplierNo: named.name.supplierNo }, 'a second plan report for this supplier replaced the first');
    } else {
      report.suppliers.push(named.name.supplierNo);
    }
    options.logger.info({ file, supplierNo: named.name.supplierNo, rows: result.rows, rejected: result.rejected.length }, 'installment plan report ingested');
  }
  return report;
}

async function ingestReport(
  db: Kysely<Database>,
  file: string,
  name: PlanReportName,
  encoding: TextEncoding,
): Promise<{ rows: number; rejected: RejectedRow[] }> {
  return db.transaction().execute(async (trx) => {
    // Replacing: the report row goes, and its plans with it (ON DELETE CASCADE).
    await trx.deleteFrom('installment_plan_reports').where('supplier_no', '=', name.supplierNo).execute();
    await trx
      .insertInto('installment_plan_reports')
      .values({ supplier_no: name.supplierNo, file_name: file, period_from: name.periodFrom, period_to: name.periodTo, row_count: 0 })
      .execute();
    const rejected: RejectedRow[] = [];
    const firstLineOfSeq = new Map<number, number>();
    let columns: ReturnType<typeof mapPlanHeader> | undefined;
    let rows = 0;
    let stored = 0;
    let batch: Insertable<InstallmentPlanTable>[] = [];
    for await (const records of csvRecords(utf8Chunks(file, encoding))) {
      for (const record of records) {
        if (!columns) {
          columns = record.malformed ? { ok: false, problem: 'not a CSV file with a header row' } : mapPlanHeader(record.fields);
          if (!columns.ok) throw new ReconError('INPUT', `${file}: ${columns.problem}`);
          const unreadable = unreadablePart(record.raw);
          if (unreadable) throw new ReconError('INPUT', `${file}: the header row is ${unreadable}`);
          continue;
        }
        if (!columns.ok) continue;
        rows++;
        const outcome = readPlanRow(record, columns.columns, name.supplierNo);
        let reason = outcome.ok ? undefined : outcome.reason;
        if (outcome.ok) {
          const first = firstLineOfSeq.get(outcome.plan.seq_no);
          if (first !== undefined) reason = `SeqNo. ${outcome.plan.seq_no} appears twice; the first row (line ${first}) is kept`;
          else firstLineOfSeq.set(outcome.plan.seq_no, record.line);
        }
        if (reason !== undefined || !outcome.ok) {
          rejected.push({ file, line: record.line, entryId: null, reason: reason ?? '', raw: withoutMarkers(record.raw) });
          continue;
        }
        batch.push({ ...outcome.plan, source_line: record.line });
        if (batch.length >= INSERT_BATCH) stored += await insertPlans(trx, batch.splice(0));
      }
    }
    if (!columns) throw new ReconError('INPUT', `${file}: the file is empty (no header row)`);
    stored += await insertPlans(trx, batch);
    await trx.updateTable('installment_plan_reports').set({ row_count: stored }).where('supplier_no', '=', name.supplierNo).execute();
    return { rows, rejected };
  });
}

async function insertPlans(trx: Transaction<Database>, plans: Insertable<InstallmentPlanTable>[]): Promise<number> {
  if (plans.length) await trx.insertInto('installment_plans').values(plans).execute();
  return plans.length;
}
