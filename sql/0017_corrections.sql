-- Corrections to the books and to the acknowledgements (docs/reference.md, `retract` and `ack`).

-- Why a finding was resolved: a run that asked about its charge (or reconciled its ledger row
-- under another charge key) no longer found it, or its ledger row was retracted. A retraction is
-- not a run, so a finding it resolves has a `resolved_on` but no `resolved_run_id`: a finding is
-- unresolved while `resolved_on` is NULL.
ALTER TABLE findings
  ADD COLUMN resolved_reason text CHECK (resolved_reason IN ('reconciled', 'retracted')),
  ADD CHECK (resolved_reason IS NULL OR resolved_on IS NOT NULL);
UPDATE findings SET resolved_reason = 'reconciled' WHERE resolved_on IS NOT NULL;
DROP INDEX findings_unresolved;
CREATE INDEX findings_unresolved ON findings (first_seen_on) WHERE resolved_on IS NULL;
-- The findings about one ledger row, whichever charge key they were filed under.
CREATE INDEX findings_unresolved_by_entry ON findings (entry_id) WHERE resolved_on IS NULL;
-- The charge a ledger row is followed under, whichever its key.
CREATE INDEX charge_state_by_entry ON charge_state (entry_id);

-- The ledger rows of each charge a run reconciled besides its charge row (`entry_id`): its
-- duplicates, refunds and voids; NULL when it has none. With them the run's final transaction
-- resolves what was filed about those rows under another charge key. Staging only: it is not
-- moved into recon_charge_results.
ALTER TABLE run_staged_charges ADD COLUMN other_entry_ids text[];

-- At most one active acknowledgement per finding: a second acknowledgement records the undo of
-- the one before in the same transaction. Earlier doubles keep their latest row active.
UPDATE finding_acknowledgements a SET undone_at = now(), undone_by = 'kpgw-recon (superseded by a later acknowledgement)'
WHERE a.undone_at IS NULL AND EXISTS (
  SELECT 1 FROM finding_acknowledgements b
  WHERE b.undone_at IS NULL AND b.id > a.id
    AND b.charge_key = a.charge_key AND b.code = a.code AND b.field = a.field AND b.entry_id = a.entry_id);
DROP INDEX finding_acknowledgements_active;
CREATE UNIQUE INDEX finding_acknowledgements_active ON finding_acknowledgements (charge_key, code, field, entry_id) WHERE undone_at IS NULL;
