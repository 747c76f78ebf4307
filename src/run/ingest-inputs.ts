import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ingestLedgers, loadLedgerMap } from '../ingest/ledger-ingest.ts';
import { ingestPlanReports } from '../ingest/plan-ingest.ts';
import type { RejectedRow } from '../ingest/rejected.ts';
import type { Logger } from '../log.ts';

/** Where a run's fee schedule comes from: a file given now, the last one given, or none. */
export type FeeSource = { readonly kind: 'file'; readonly file: string } | { readonly kind: 'latest' } | { readonly kind: 'none' };

export interface IngestedInputs {
  /** Ledger and plan data rows read. */
  rows: number;
  rejected: RejectedRow[];
}

/** The run's plan reports and ledger files into PostgreSQL (a `rerun` has none). */
export async function ingestInputs(
  database: { url: string; db: Kysely<Database> },
  request: { ledgers: readonly string[]; plans: readonly string[]; ledgerMap?: string },
  options: { logger: Logger; signal: AbortSignal; onProgress?: (rows: number) => void },
): Promise<IngestedInputs> {
  const rejected: RejectedRow[] = [];
  let rows = 0;
  // Plan reports first: they are small, and one that cannot be used stops the run before the
  // ledger is ingested.
  if (request.plans.length) {
    const plans = await ingestPlanReports(database.db, [...request.plans], { logger: options.logger });
    rows += plans.rows;
    rejected.push(...plans.rejected);
    options.logger.info({ files: plans.files, rows: plans.rows, suppliers: plans.suppliers, rejected: plans.rejected.length }, 'plan reports ingested');
  }
  if (request.ledgers.length) {
    const ledgerMap = request.ledgerMap ? await loadLedgerMap(request.ledgerMap) : undefined;
    const ledger = await ingestLedgers(database, [...request.ledgers], { ledgerMap, ...options });
    rows += ledger.rows;
    rejected.push(...ledger.rejected);
    options.logger.info(
      { files: ledger.files, rows: ledger.rows, inserted: ledger.inserted, replaced: ledger.replaced, unchanged: ledger.unchanged, rejected: ledger.rejected.length },
      'ledger ingested',
    );
  }
  return { rows, rejected };
}
