-- docs/reference.md §5.7: many merchants on one PostgreSQL. Each merchant's tables live in a schema of
-- its own (`kpgw_<mid>`, chosen by the connection's search_path, see src/db/merchant.ts), so
-- every query, key and lock of one merchant stays clear of the others; and every row says whose
-- it is. The single merchant of a plain `nightly` from cron keeps the public schema and ''.
ALTER TABLE ledger_entries            ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE installment_plan_reports  ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE installment_plans         ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE recon_runs                ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE gateway_inquiries         ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE recon_mismatches          ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE recon_daily_summary       ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE recon_charge_results      ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE fee_schedules             ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE charge_state              ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE findings                  ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
ALTER TABLE finding_acknowledgements  ADD COLUMN merchant text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), '');
