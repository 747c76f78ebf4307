import { ReconError } from '../errors.ts';
import { readEditedCsv, type LineProblem } from './edited-csv.ts';
import type { RetractionRequest } from './retractions.ts';

const COLUMNS = ['entry_id', 'reason', 'by'] as const;
const EXPECTED = 'at least entry_id and reason';

/**
 * The ledger rows a `retract --file` takes out (docs/reference.md §1.8): a CSV with a header
 * holding at least `entry_id` and `reason`, and optionally `by` (else `by` as given); other
 * columns are ignored, so a list made from the ledger or a report loads as it is. Every row must
 * name a row and say why: a row without is a bad line, and the file is then applied not at all.
 */
export async function readRetractFile(file: string, by: string): Promise<{ requests: RetractionRequest[]; problems: LineProblem[] }> {
  const csv = await readEditedCsv(file, COLUMNS, EXPECTED);
  const missing = (['entry_id', 'reason'] as const).filter((name) => !csv.columns.has(name));
  if (missing.length) throw new ReconError('INPUT', `${file}: the header has no ${missing.join(', ')} column (expected ${EXPECTED})`);
  const requests: RetractionRequest[] = [];
  const problems: LineProblem[] = [];
  for (const { line, cells, problem } of csv.rows) {
    const missingCell = !cells.entry_id ? 'no entry_id' : !cells.reason ? 'no reason' : undefined;
    if (problem || missingCell) problems.push({ line, problem: (problem ?? missingCell)! });
    else requests.push({ entryId: cells.entry_id, reason: cells.reason, by: cells.by || by, line });
  }
  if (!requests.length && !problems.length) throw new ReconError('INPUT', `${file}: no row names a ledger row; nothing to retract`);
  return { requests, problems };
}
