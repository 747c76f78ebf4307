import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { RunJson } from './report-files.ts';
import type { NewMismatchRow } from './run.table.ts';
import type { ChargeRow, MismatchRow, SummaryRow } from './summary.ts';

const BATCH = 1000;

/**
 * The run's own rows (contract §5), inserted in the run's one final transaction; readers see
 * them when {@link finishRun} marks the run `finished` in the same transaction.
 */
export async function insertRunRows(
  trx: Kysely<Database>,
  input: { runId: string; mismatches: readonly MismatchRow[]; summary: readonly SummaryRow[]; charges: readonly ChargeRow[] },
): Promise<void> {
  const { runId } = input;
  await insertBatched(trx, 'recon_mismatches', input.mismatches.map(mismatchRecord));
  await insertBatched(trx, 'recon_daily_summary', input.summary.map((s) => ({ ...s, run_id: runId })));
  await insertBatched(trx, 'recon_charge_results', input.charges.map((c) => ({ ...c, run_id: runId })));
}

/** Marks the run finished with its figures; refuses a run that is no longer `running`. */
export async function finishRun(trx: Kysely<Database>, input: { run: RunJson; exitCode: number; reportDir: string }): Promise<void> {
  const { run } = input;
  const updated = await trx
    .updateTable('recon_runs')
    .set({
      status: 'finished',
      finished_at: new Date(),
      exit_code: input.exitCode,
      report_dir: input.reportDir,
      counts: JSON.stringify(run.counts),
      gateway: JSON.stringify(run.gateway),
      timings_ms: JSON.stringify(run.timings_ms),
      duration_ms: run.duration_ms,
    })
    .where('run_id', '=', run.run_id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  if (updated.numUpdatedRows !== 1n) throw new Error(`run ${run.run_id} is no longer running; results not stored`);
}

/** The CSV's empty cells are NULLs in the table. */
function mismatchRecord(m: MismatchRow, seq: number): NewMismatchRow {
  const orNull = (value: string) => value || null;
  return {
    ...m,
    seq,
    severity: m.severity as NewMismatchRow['severity'],
    charge_id: orNull(m.charge_id),
    reference_order: orNull(m.reference_order),
    entry_id: orNull(m.entry_id),
    field: orNull(m.field),
    ledger_value: orNull(m.ledger_value),
    gateway_value: orNull(m.gateway_value),
    difference: orNull(m.difference),
  };
}

async function insertBatched<T extends 'recon_mismatches' | 'recon_daily_summary' | 'recon_charge_results'>(
  trx: Kysely<Database>,
  table: T,
  rows: readonly object[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    await trx.insertInto(table).values(rows.slice(i, i + BATCH) as never).execute();
  }
}
