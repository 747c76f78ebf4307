-- docs/reference.md §3.1, §4.11: the convenience fee and its VAT that the customer paid on top of `amount`.
ALTER TABLE ledger_entries
  ADD COLUMN convfee_amount numeric(14, 2),
  ADD COLUMN convfee_vat    numeric(14, 2);
