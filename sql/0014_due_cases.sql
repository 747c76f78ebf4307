-- A nightly's due charges (docs/reference.md §1.3) are cases of the run like its own, numbered after them in
-- run_case_rows, so a night with hundreds of thousands of follow-ups is read in pages too rather
-- than held. Two things only they can be: an orphan (refund and void rows whose charge is in no
-- ledger charge row; its first row stands for the charge and is one of its refunds or voids
-- too), and the reason it is due. Both are set on every row of the case.
ALTER TABLE run_case_rows
  ADD COLUMN orphan boolean NOT NULL DEFAULT false,
  ADD COLUMN due    text CHECK (due IN ('revisit', 'recheck'));
