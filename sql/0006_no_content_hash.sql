-- Whether a re-ingested row changed is now decided by comparing its values in SQL, only for the
-- rows that meet an existing entry_id; hashing every row of every file cost the ingest process a
-- tenth of its time on large ledgers.
ALTER TABLE ledger_entries DROP COLUMN content_hash;
