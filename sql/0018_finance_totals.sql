-- Totals that mean one thing everywhere, and what the finance export and the VAT schedule need
-- of each charge (docs/reference.md, "Totals" and "Finance export").

-- summary.csv's two new columns, and the estimate of the fees of the charges counted in
-- fees_pending (worked out from the fee schedule, never KBank's figure: shown as an estimate).
-- Rows written before this migration count no voided amount and no pending fees.
ALTER TABLE recon_daily_summary
  ADD COLUMN voided_amount  numeric(22, 2) NOT NULL DEFAULT 0,
  ADD COLUMN fees_pending   integer NOT NULL DEFAULT 0,
  ADD COLUMN mdr_estimate   numeric(22, 2) NOT NULL DEFAULT 0,
  ADD COLUMN vat_estimate   numeric(22, 2) NOT NULL DEFAULT 0;

-- Per charge: the gateway's state as sent, the Bangkok day it created the charge, the card as
-- KBank masks it, the ledger row's mid; whether KBank's fee figures are known (`fees_state`),
-- the fees the schedule expects while they are not (an estimate), and the refunds whose fees
-- KBank gave back, each with the dates the VAT schedule dates it by. `settled_amount`, `mdr`,
-- `vat` and `net_amount` are from now on KBank's figures in THB, set only when fees_state is
-- 'reported'.
ALTER TABLE recon_charge_results
  ADD COLUMN transaction_state text,
  ADD COLUMN created_date      date,
  ADD COLUMN card_masking      text,
  ADD COLUMN mid               text,
  ADD COLUMN fees_state        text CHECK (fees_state IN ('reported', 'pending', 'not_reported', 'unverified', 'voided', 'none')),
  ADD COLUMN mdr_estimate      numeric(16, 4),
  ADD COLUMN vat_estimate      numeric(16, 4),
  ADD COLUMN refunds           jsonb;
ALTER TABLE run_staged_charges
  ADD COLUMN transaction_state text,
  ADD COLUMN created_date      date,
  ADD COLUMN card_masking      text,
  ADD COLUMN mid               text,
  ADD COLUMN fees_state        text,
  ADD COLUMN mdr_estimate      numeric(16, 4),
  ADD COLUMN vat_estimate      numeric(16, 4),
  ADD COLUMN refunds           jsonb;

-- Older results, as far as they tell: the gateway's state was not kept, so a voided charge
-- cannot be told from one KBank charged nothing for ('none').
UPDATE recon_charge_results SET
  fees_state = CASE
    WHEN status = 'UNVERIFIED' THEN 'unverified'
    WHEN codes && ARRAY['SETTLEMENT_PENDING', 'FEES_NOT_REPORTED'] THEN 'pending'
    WHEN mdr IS NOT NULL AND vat IS NOT NULL THEN 'reported'
    WHEN source_type IN ('qr', 'wechat') THEN 'not_reported'
    ELSE 'none' END,
  status = CASE WHEN status = 'MATCHED' AND codes && ARRAY['FEES_NOT_REPORTED'] THEN 'PENDING' ELSE status END;
UPDATE recon_charge_results SET settled_amount = NULL, mdr = NULL, vat = NULL, net_amount = NULL
WHERE fees_state <> 'reported' AND (settled_amount IS NOT NULL OR mdr IS NOT NULL);

-- The VAT schedule dates a fee by KBank's `created` day: the few charges a ledger books on
-- another day (a ledger that books in UTC) are found by this small index, the rest by their
-- transaction_date. And the charges with refunds, whose reversals are dated by the refund.
CREATE INDEX recon_charge_results_created_elsewhere ON recon_charge_results (created_date) WHERE created_date <> transaction_date;
CREATE INDEX recon_charge_results_with_refunds ON recon_charge_results (entry_id) WHERE refunds IS NOT NULL;
