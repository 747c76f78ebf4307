import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { RunJson } from '../report/report-files.ts';
import type { SummaryRow } from '../report/summary.ts';

const BATCH = 1000;

/** The run's summary rows (contract §5), in the run's one final transaction. */
export async function insertSummary(trx: Kysely<Database>, runId: string, summary: readonly SummaryRow[]): Promise<void> {
  for (let i = 0; i < summary.length; i += BATCH) {
    await trx.insertInto('recon_daily_summary').values(summary.slice(i, i + BATCH).map((s) => ({ ...s, run_id: runId }))).execute();
  }
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
