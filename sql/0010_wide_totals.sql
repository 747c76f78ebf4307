-- A day's totals add up many charges of up to 12 integer digits each (the most a ledger amount
-- or a gateway figure may have): numeric(16,2) overflowed past about a hundred such charges and
-- ended the run. 22 digits hold a hundred million of them.
ALTER TABLE recon_daily_summary
  ALTER COLUMN gross_amount    TYPE numeric(22, 2),
  ALTER COLUMN settled_amount  TYPE numeric(22, 2),
  ALTER COLUMN mdr             TYPE numeric(22, 2),
  ALTER COLUMN vat             TYPE numeric(22, 2),
  ALTER COLUMN net_amount      TYPE numeric(22, 2),
  ALTER COLUMN refunded_amount TYPE numeric(22, 2);
