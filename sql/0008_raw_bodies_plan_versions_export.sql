-- docs/reference.md §4.2: the audit trail keeps each answer's body exactly as KBank sent it, as text.
-- Bodies used to be parsed and serialised again before storing (`10.7000` became `10.7`), and
-- jsonb reorders keys and spacing; rows stored before this migration keep jsonb's rendering.
ALTER TABLE gateway_inquiries ALTER COLUMN body TYPE text USING body::text;

-- docs/reference.md §3.2: re-importing a supplier's Installment Plan Report adds a version instead of
-- replacing the plans, so an old month is judged by the plans known at the time. A version is
-- one imported file; the same file imported again (same bytes) adds nothing.
ALTER TABLE installment_plans DROP CONSTRAINT installment_plans_supplier_no_fkey;
ALTER TABLE installment_plans DROP CONSTRAINT installment_plans_pkey;
ALTER TABLE installment_plan_reports DROP CONSTRAINT installment_plan_reports_pkey;
ALTER TABLE installment_plan_reports
  ADD COLUMN report_id bigserial PRIMARY KEY,
  -- sha256 of the file's bytes, to recognise the identical file imported again
  ADD COLUMN content_sha256 text;
CREATE INDEX installment_plan_reports_by_supplier ON installment_plan_reports (supplier_no, imported_at);

ALTER TABLE installment_plans ADD COLUMN report_id bigint;
UPDATE installment_plans p SET report_id = r.report_id FROM installment_plan_reports r WHERE r.supplier_no = p.supplier_no;
ALTER TABLE installment_plans
  ALTER COLUMN report_id SET NOT NULL,
  ADD CONSTRAINT installment_plans_report_id_fkey FOREIGN KEY (report_id) REFERENCES installment_plan_reports (report_id) ON DELETE CASCADE,
  ADD PRIMARY KEY (report_id, seq_no);
DROP INDEX installment_plans_lookup;
CREATE INDEX installment_plans_by_report ON installment_plans (report_id);

-- docs/reference.md §5.4: the finance export's new columns, from the gateway's answer.
ALTER TABLE recon_charge_results
  ADD COLUMN approval_code  text,
  ADD COLUMN ref_1          text,
  ADD COLUMN ref_2          text,
  ADD COLUMN ref_3          text,
  ADD COLUMN convfee_amount numeric(16, 4),
  ADD COLUMN convfee_vat    numeric(16, 4),
  ADD COLUMN open           boolean;
-- Older results: open as far as they tell (the gateway's state was not kept, so a charge left in
-- `Refund Sent` by an older run shows as not open until it is run again).
UPDATE recon_charge_results
SET open = status = 'UNVERIFIED' OR codes && ARRAY['SETTLEMENT_PENDING', 'FEES_NOT_REPORTED', 'REFUND_PENDING'];
ALTER TABLE recon_charge_results ALTER COLUMN open SET NOT NULL;
