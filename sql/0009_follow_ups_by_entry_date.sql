-- docs/reference.md §4.1: a run also covers every charge with a refund or void booked (entry_date) in its
-- range, however old the charge. Refund and void rows are a small part of a ledger, so a partial
-- index on their entry_date costs the ingest little and spares each run a scan of the whole table.
CREATE INDEX ledger_entries_follow_ups_by_entry_date ON ledger_entries (entry_date) WHERE entry_type <> 'charge';
