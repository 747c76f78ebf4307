-- A run's results before its final transaction are its drafts: "stage" names the pipeline's
-- stages (ingest, inquiry, reconcile, report) and nothing else. A rename keeps the rows, the
-- columns and the row type that the draft writes read their JSON through.
ALTER TABLE run_staged_findings RENAME TO run_draft_findings;
ALTER TABLE run_staged_charges RENAME TO run_draft_charges;
