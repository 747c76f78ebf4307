/**
 * A row that could not be ingested, as `rejected.csv` lists it (docs/reference.md §5.1): where it is (the
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
