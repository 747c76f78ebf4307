/**
 * A row that could not be ingested, as `rejected.csv` lists it (contract §5): where it is (the
 * line a text editor shows where the record starts, header = line 1), which entry it claims to
 * be when that much is readable, why, in words a finance clerk understands, and its original text.
 */
export interface RejectedRow {
  file: string;
  line: number;
  entryId: string | null;
  reason: string;
  raw: string;
}

/**
 * A copy of `raw` that does not keep the whole read chunk it was sliced from alive (V8 slices
 * share their parent string), so a file with many bad rows does not pin megabytes per row.
 */
export function detachedText(raw: string): string {
  return Buffer.from(raw, 'utf8').toString('utf8');
}
