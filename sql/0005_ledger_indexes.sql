-- A run finds its charges, refunds and voids by transaction_date alone (a refund or void row
-- carries its charge's transaction_date, docs/reference.md §3.1), so one index on the date serves it.
-- The id indexes cost a third of a large ingest's time and served no query.
DROP INDEX ledger_entries_charges_by_date;
DROP INDEX ledger_entries_charge_id;
DROP INDEX ledger_entries_reference_order;
DROP INDEX ledger_entries_order_id;
CREATE INDEX ledger_entries_by_date ON ledger_entries (transaction_date);
