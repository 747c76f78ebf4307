/** `run.json` (docs/reference.md §5.1). */
export interface RunJson {
  run_id: string;
  from: string;
  to: string;
  as_of: string;
  status: 'finished' | 'aborted';
  counts: RunCounts;
  gateway: GatewayCounts;
  timings_ms: StageTimings;
  duration_ms: number;
}

export interface RunCounts {
  ledger_rows: number;
  rejected: number;
  charges: number;
  inquired: number;
  matched: number;
  mismatched: number;
  unverified: number;
  /** docs/reference.md §4.21, §4.22. */
  open: number;
  revisited: number;
  rechecked: number;
  deferred: number;
  new_findings: number;
  resolved_findings: number;
  acknowledged: number;
}

export interface GatewayCounts {
  requests: number;
  retries: number;
  errors: number;
}

export interface StageTimings {
  ingest: number;
  inquiry: number;
  reconcile: number;
  report: number;
}
