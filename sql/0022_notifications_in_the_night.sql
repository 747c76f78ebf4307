-- KBank's notifications in the night (docs/reference.md, "Notifications in the night").

-- The notifications a night has to deal with, one row each, and which night dealt with it: every
-- verified notification of a successful payment (it may name a charge the ledger never booked,
-- or one KBank's inquiry contradicts) and every one whose checksum fails (it is reported once).
-- A row is added as its notification is stored (src/notify/notification-store.ts); `dealt_on`
-- stays NULL until a finished run has dealt with it, so a night reads the few pending ones, never
-- the whole history, and none is dealt with twice or forgotten.
CREATE TABLE notification_outcomes (
  notification_id bigint PRIMARY KEY,
  merchant        text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), ''),
  -- copies of the notification's, for the pending ones' index
  received_at     timestamptz NOT NULL,
  verified        boolean NOT NULL,
  -- the night whose run dealt with it, that run, and the charge it was filed under
  dealt_on        date,
  dealt_run_id    uuid REFERENCES recon_runs (run_id),
  charge_key      text,
  CHECK ((dealt_on IS NULL) = (dealt_run_id IS NULL))
);
CREATE INDEX notification_outcomes_pending ON notification_outcomes (received_at) WHERE dealt_on IS NULL;
INSERT INTO notification_outcomes (notification_id, merchant, received_at, verified)
SELECT notification_id, merchant, received_at, checksum_verdict = 'valid' FROM notifications
WHERE checksum_verdict = 'invalid' OR lower(status) = 'success';

-- Each charge a run asks about is checked against its verified notifications, found by any id
-- the charge has (charge_id has its index already).
CREATE INDEX notifications_order ON notifications (order_id) WHERE checksum_verdict = 'valid';
CREATE INDEX notifications_reference ON notifications (reference_order) WHERE checksum_verdict = 'valid';

-- A nightly's notified charges are cases of the run like its due ones. One no ledger charge row
-- names has no ledger row at all: its case is its notification (the first received).
ALTER TABLE run_case_rows
  ALTER COLUMN entry_id DROP NOT NULL,
  ADD COLUMN notification_id bigint,
  ADD CHECK ((entry_id IS NULL) <> (notification_id IS NULL)),
  DROP CONSTRAINT run_case_rows_due_check,
  ADD CONSTRAINT run_case_rows_due_check CHECK (due IN ('revisit', 'recheck', 'notified'));

-- The result of a charge KBank notified that no ledger charge row names has no ledger row
-- (`entry_id` NULL): it stands on its notification (`notification_id`), and its status is
-- `NOT_IN_LEDGER` when KBank's inquiry confirms the payment. `order_id` (KBank's, else the
-- ledger's) lets the finance outputs see a Thai QR charge the ledger later books by order id.
ALTER TABLE recon_charge_results
  DROP CONSTRAINT recon_charge_results_pkey,
  ALTER COLUMN entry_id DROP NOT NULL,
  ADD COLUMN notification_id bigint,
  ADD COLUMN order_id text,
  ADD CHECK ((entry_id IS NULL) <> (notification_id IS NULL)),
  DROP CONSTRAINT recon_charge_results_status_check,
  ADD CONSTRAINT recon_charge_results_status_check CHECK (status IN ('MATCHED', 'MISMATCH', 'UNVERIFIED', 'PENDING', 'NOT_IN_LEDGER'));
CREATE UNIQUE INDEX recon_charge_results_by_entry ON recon_charge_results (run_id, entry_id);
CREATE INDEX recon_charge_results_not_in_ledger ON recon_charge_results (transaction_date) WHERE notification_id IS NOT NULL;
-- `notification_ids`: the notifications the charge was checked against (staging only: the final
-- transaction marks those of a definite answer dealt with).
ALTER TABLE run_staged_charges
  ALTER COLUMN entry_id DROP NOT NULL,
  ADD COLUMN notification_id bigint,
  ADD COLUMN order_id text,
  ADD COLUMN notification_ids bigint[];

-- The notifications with a failing checksum a run reports (work table, as run_case_rows).
CREATE UNLOGGED TABLE run_notifications (notification_id bigint PRIMARY KEY);
