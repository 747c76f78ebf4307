-- Ledger ids compare byte by byte. The cluster's default collation may be a libc locale such as
-- C.UTF-8 or en_US.UTF-8, where every comparison goes through strcoll() and index builds cannot
-- use abbreviated keys: on a million-row ledger that made the id indexes several times slower to
-- build and maintain. For ids, "C" order is the natural one (for UTF-8 it is also C.UTF-8's
-- code-point order), so only the speed changes.
ALTER TABLE ledger_entries
  ALTER COLUMN entry_id TYPE text COLLATE "C",
  ALTER COLUMN reference_order TYPE text COLLATE "C",
  ALTER COLUMN charge_id TYPE text COLLATE "C",
  ALTER COLUMN order_id TYPE text COLLATE "C";
