import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { openItems, type OpenItemKind } from '../followup/open-items.ts';
import type { RunKind } from '../run/run.table.ts';

/** One merchant's nightly, as `status` reports it. */
export interface MerchantStatus {
  /** '' for the single merchant of a plain set-up. */
  readonly mid: string;
  /** Its last finished run; `undefined` when it has none. */
  readonly lastRun: LastRun | undefined;
  /** What `open-items` lists for it now, by kind. */
  readonly openItems: Record<OpenItemKind, number>;
}

export interface LastRun {
  readonly runId: string;
  readonly kind: RunKind;
  readonly from: string;
  readonly to: string;
  readonly asOf: string;
  readonly exitCode: number;
  readonly finishedAt: Date;
  /** Its findings (rows of mismatches.csv), by severity. */
  readonly findings: { readonly error: number; readonly warning: number };
  readonly reportDir: string | null;
}

/** The merchant's last finished run, by when it finished, with its findings; `undefined` when none finished. */
export async function lastFinishedRun(db: Kysely<Database>): Promise<LastRun | undefined> {
  const run = await db
    .selectFrom('recon_runs')
    .select(['run_id', 'kind', 'from_date', 'to_date', 'as_of', 'exit_code', 'finished_at', 'report_dir'])
    .where('status', '=', 'finished')
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!run?.finished_at) return undefined;
  const bySeverity = await db
    .selectFrom('recon_mismatches')
    .select(['severity', (eb) => eb.fn.countAll<string>().as('n')])
    .where('run_id', '=', run.run_id)
    .groupBy('severity')
    .execute();
  const count = (severity: 'error' | 'warning') => Number(bySeverity.find((row) => row.severity === severity)?.n ?? 0);
  return {
    runId: run.run_id,
    kind: run.kind,
    from: String(run.from_date),
    to: String(run.to_date),
    asOf: String(run.as_of),
    // A finished run always has its exit code (see finishRun).
    exitCode: run.exit_code ?? 0,
    finishedAt: run.finished_at,
    findings: { error: count('error'), warning: count('warning') },
    reportDir: run.report_dir,
  };
}

/** Counts what `open-items` would list now (the same rows, so the two never disagree). */
export async function countOpenItems(db: Kysely<Database>, scope: { asOf: string; openMaxDays: number }): Promise<Record<OpenItemKind, number>> {
  const counts: Record<OpenItemKind, number> = { open_charge: 0, finding: 0, stale: 0 };
  for await (const row of openItems(db, scope)) counts[row.kind as OpenItemKind] += 1;
  return counts;
}
