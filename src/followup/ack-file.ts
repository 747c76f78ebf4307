import { ReconError } from '../errors.ts';
import type { FindingSelector } from './acknowledge.ts';
import { readEditedCsv, type LineProblem } from './edited-csv.ts';

export interface AckFile {
  selectors: FindingSelector[];
  problems: LineProblem[];
}

const COLUMNS = ['charge_id', 'reference_order', 'code', 'field', 'entry_id', 'note', 'ack_note', 'by'] as const;
const EXPECTED = 'at least charge_id, code and note or ack_note';

/**
 * The findings an `ack --file` names (docs/reference.md §1.7): a CSV with a header holding at
 * least `charge_id`, `code` and a note column (optionally `reference_order`, which names the
 * charge when `charge_id` is empty, `field`, `entry_id` and `by`); other columns are ignored. The
 * note column is `note` (a column a clerk added to `mismatches.csv` in Excel), else
 * `mismatches.csv`'s own `ack_note`; its `acknowledged_by` says who acknowledged before, so it
 * is no `by`. Only rows with a note count: a clerk notes some rows and leaves the rest. For
 * `--undo` the note column is optional; when it is there, the same noted rows are undone, so
 * undoing a file takes back what acknowledging it did.
 */
export async function readAckFile(file: string, options: { undo: boolean; by: string }): Promise<AckFile> {
  const csv = await readEditedCsv(file, COLUMNS, EXPECTED);
  const noteColumn = csv.columns.has('note') ? 'note' : csv.columns.has('ack_note') ? 'ack_note' : undefined;
  const missing = [
    csv.columns.has('charge_id') || csv.columns.has('reference_order') ? undefined : 'charge_id',
    csv.columns.has('code') ? undefined : 'code',
    noteColumn || options.undo ? undefined : 'note',
  ].filter((name) => name !== undefined);
  if (missing.length) throw new ReconError('INPUT', `${file}: the header has no ${missing.join(', ')} column (expected ${EXPECTED})`);

  const result: AckFile = { selectors: [], problems: [] };
  for (const { line, cells, problem } of csv.rows) {
    const note = noteColumn ? cells[noteColumn] : '';
    if (noteColumn && !note) continue;
    if (problem) {
      result.problems.push({ line, problem });
      continue;
    }
    const charge = cells.charge_id || cells.reference_order;
    if (!charge || !cells.code) {
      result.problems.push({ line, problem: charge ? 'no code' : 'no charge (charge_id and reference_order are empty)' });
      continue;
    }
    result.selectors.push({ charge, code: cells.code, field: cells.field, entryId: cells.entry_id, note, by: cells.by || options.by, line });
  }
  if (!result.selectors.length && !result.problems.length) {
    throw new ReconError('INPUT', `${file}: no row ${noteColumn ? `has a ${noteColumn}` : 'names a finding'}; nothing to ${options.undo ? 'undo' : 'acknowledge'}`);
  }
  return result;
}
