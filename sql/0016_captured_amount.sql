-- A partial capture (KBank's Settle Transaction with type `partial`): the amount the merchant
-- settled when it captured less than it authorised. Only on a charge row, more than zero and at
-- most the charge's amount; the ingest rejects any other value with its reason, and these checks
-- keep the table to the same rules.
ALTER TABLE ledger_entries
  ADD COLUMN captured_amount numeric(14, 2),
  ADD CONSTRAINT ledger_entries_captured_amount CHECK (
    captured_amount IS NULL OR (entry_type = 'charge' AND captured_amount > 0 AND captured_amount <= amount)
  );
