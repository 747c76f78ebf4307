-- A run's working tables (issue 13): its cases, so that a run of any size is read in pages, and
-- its results, staged as they are reconciled until the run's one final transaction moves them
-- into recon_mismatches and recon_charge_results. One run at a time holds a schema's run lock,
-- so they need no run id and no merchant (the schema is the merchant's): a run empties them when
-- it starts and when it ends. UNLOGGED: a crash loses nothing that the next run does not rebuild.

-- Every ledger row of the run's own cases, in case order: the charge row first (the one
-- reconciled; its `charge_key` set), then its duplicate charge rows, then its refund and void rows.
CREATE UNLOGGED TABLE run_case_rows (
  case_no    integer NOT NULL,
  pos        integer NOT NULL,
  entry_id   text NOT NULL,
  charge_key text,
  PRIMARY KEY (case_no, pos)
);

-- Findings in the order they are found; the final move numbers them (`seq`) in case order.
-- No `merchant` column: the final move's rows take it from the session, as every insert does.
CREATE UNLOGGED TABLE run_staged_findings (LIKE recon_mismatches);
ALTER TABLE run_staged_findings
  DROP COLUMN merchant,
  ALTER COLUMN seq DROP NOT NULL,
  ADD COLUMN case_no integer NOT NULL,
  ADD COLUMN idx     integer NOT NULL;

CREATE UNLOGGED TABLE run_staged_charges (LIKE recon_charge_results);
ALTER TABLE run_staged_charges DROP COLUMN merchant;
