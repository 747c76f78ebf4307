import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Insertable, Kysely } from 'kysely';
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
  /** Suppliers a file was read for, in file order. */
  suppliers: string[];
  /** Files that added a new version of their supplier's plans. */
  versionsAdded: number;
}

export interface PlanIngestOptions {
  logger: Logger;
  /** When the import happens (default: now); tests set it to import a version "in the past". */
  now?: Date;
}

const INSERT_BATCH = 500;

/**
 * Imports Installment Plan Reports (docs/reference.md §3.2). Each file adds a new version of its
 * supplier's plans, in one transaction, unless it is byte for byte the supplier's latest version
 * (a nightly inbox re-reads the same file every night). Earlier versions are kept: a charge is
 * judged by the plans known on its date. Bad rows are rejected every time the file is read; a
 * bad file name or missing column is a usage error.
 */
export async function ingestPlanReports(db: Kysely<Database>, paths: readonly string[], options: PlanIngestOptions): Promise<PlanIngestReport> {
  const files = await expandCsvPaths(paths);
  const report: PlanIngestReport = { files: files.length, rows: 0, rejected: [], suppliers: [], versionsAdded: 0 };
  // Every file is read before any is stored: a file that cannot be used (its name, its header)
  // stops the import with nothing of it stored.
  const reads: { file: string; name: PlanReportName; read: ReadReport }[] = [];
  for (const file of files) {
    const named = readPlanReportName(file);
    if (!named.ok) throw new ReconError('INPUT', `${file}: ${named.problem}`);
    const encoding = await encodingOf(file);
    let read: ReadReport;
    try {
      read = await readReport(file, named.name.supplierNo, encoding);
    } catch (error) {
      if (!(error instanceof NotUtf8Error)) throw error;
      read = await readReport(file, named.name.supplierNo, 'win874');
    }
    reads.push({ file, name: named.name, read });
  }
  for (const { file, name, read } of reads) {
    report.rows += read.rows;
    report.rejected.push(...read.rejected);
    if (!report.suppliers.includes(name.supplierNo)) report.suppliers.push(name.supplierNo);
    const added = await storeVersion(db, file, name, read.plans, await sha256Of(file), options.now);
    if (added) report.versionsAdded += 1;
    options.logger.info(
      { file, supplierNo: name.supplierNo, rows: read.rows, rejected: read.rejected.length, newVersion: added },
      added ? 'installment plan report ingested as a new version' : "installment plan report unchanged (identical to the supplier's latest version)",
    );
  }
  return report;
}

/** A plan as read from its file, before it belongs to a stored version. */
type StoredPlan = Omit<Insertable<InstallmentPlanTable>, 'report_id'>;

interface ReadReport {
  rows: number;
  plans: StoredPlan[];
  rejected: RejectedRow[];
}

/** Reads a whole report (they are small: one supplier's plans). */
async function readReport(file: string, supplierNo: string, encoding: TextEncoding): Promise<ReadReport> {
  const rejected: RejectedRow[] = [];
  const plans: StoredPlan[] = [];
  const firstLineOfSeq = new Map<number, number>();
  let columns: ReturnType<typeof mapPlanHeader> | undefined;
  let rows = 0;
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
      const outcome = readPlanRow(record, columns.columns, supplierNo);
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
      plans.push({ ...outcome.plan, source_line: record.line });
    }
  }
  if (!columns) throw new ReconError('INPUT', `${file}: the file is empty (no header row)`);
  return { rows, plans, rejected };
}

/** Adds the report as its supplier's newest version; `false` when it is the latest one again. */
async function storeVersion(
  db: Kysely<Database>,
  file: string,
  name: PlanReportName,
  plans: readonly StoredPlan[],
  sha256: string,
  now: Date | undefined,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const latest = await trx
      .selectFrom('installment_plan_reports')
      .select('content_sha256')
      .where('supplier_no', '=', name.supplierNo)
      .orderBy('imported_at', 'desc')
      .orderBy('report_id', 'desc')
      .limit(1)
      .forUpdate()
      .executeTakeFirst();
    if (latest?.content_sha256 === sha256) return false;
    const { report_id } = await trx
      .insertInto('installment_plan_reports')
      .values({
        supplier_no: name.supplierNo,
        file_name: file,
        period_from: name.periodFrom,
        period_to: name.periodTo,
        row_count: plans.length,
        content_sha256: sha256,
        ...(now ? { imported_at: now } : {}),
      })
      .returning('report_id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < plans.length; i += INSERT_BATCH) {
      await trx.insertInto('installment_plans').values(plans.slice(i, i + INSERT_BATCH).map((plan) => ({ ...plan, report_id }))).execute();
    }
    return true;
  });
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
