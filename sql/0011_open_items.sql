-- docs/reference.md §4.21, §4.22 and §1.7: reconciliation as a process over open items. Every table here is
-- written in the run's one final transaction, so an interrupted run changes none of it.
--
-- A "night" is the day a run looks back on: the day before its as-of day (`nightly --date D`
-- runs as of D + 1, so its night is D). Ages are counted in nights.

-- The state of every charge any run asked about (or deferred): its latest answer, whether it is
-- open and why, and when it is next due.
CREATE TABLE charge_state (
  -- the ledger's charge key (charge_id, else reference_order, else order_id), as gateway_inquiries
  charge_key        text PRIMARY KEY,
  entry_id          text NOT NULL,
  transaction_date  date NOT NULL,
  source_type       text NOT NULL,
  currency          text NOT NULL,
  -- what the ledger books (0.00 for a charge known only by its refund or void rows)
  amount            numeric(14, 2) NOT NULL,
  charge_id         text,
  reference_order   text,
  open              boolean NOT NULL,
  -- why it is open: a code (INQUIRY_FAILED, SETTLEMENT_PENDING, FEES_NOT_REPORTED,
  -- REFUND_PENDING), REFUND_SENT, or DEFERRED (due, but the night's request budget ran out
  -- before it was ever asked); NULL when final
  open_reason       text,
  open_message      text,
  -- the night the current open stretch began
  open_since        date,
  -- the night a run first asked about it (or deferred it)
  first_seen_on     date NOT NULL,
  last_asked_on     date,
  last_asked_at     timestamptz,
  -- the latest answer, as stored in the audit trail
  last_inquiry_id   bigint,
  last_run_id       uuid,
  -- the night it is asked again by itself: open, the next night; final, at the next re-check
  -- age; NULL when nothing is due
  next_ask_on       date,
  CHECK (open = (open_reason IS NOT NULL))
);
CREATE INDEX charge_state_due ON charge_state (next_ask_on) WHERE next_ask_on IS NOT NULL;
CREATE INDEX charge_state_open ON charge_state (transaction_date) WHERE open;

-- Every finding, across runs. Its identity is (charge, code, field), with the ledger row when one
-- charge has several rows with the same finding (two duplicate rows, two pending refunds).
CREATE TABLE findings (
  charge_key        text NOT NULL,
  code              text NOT NULL,
  field             text NOT NULL,  -- '' when the finding names no field
  entry_id          text NOT NULL,  -- '' when it names no ledger row
  transaction_date  date NOT NULL,
  source_type       text NOT NULL,
  charge_id         text,
  reference_order   text,
  severity          text NOT NULL CHECK (severity IN ('error', 'warning')),
  ledger_value      text,
  gateway_value     text,
  difference        numeric(16, 4),
  message           text NOT NULL,
  -- the night it was first reported with these values
  first_seen_on     date NOT NULL,
  first_run_id      uuid NOT NULL,
  last_run_id       uuid NOT NULL,
  -- set when a run that asked about the charge no longer found it
  resolved_on       date,
  resolved_run_id   uuid,
  PRIMARY KEY (charge_key, code, field, entry_id)
);
CREATE INDEX findings_unresolved ON findings (first_seen_on) WHERE resolved_run_id IS NULL;
CREATE INDEX findings_resolved_by_run ON findings (resolved_run_id) WHERE resolved_run_id IS NOT NULL;
CREATE INDEX findings_by_charge_id ON findings (charge_id);
CREATE INDEX findings_by_reference_order ON findings (reference_order);

-- Acknowledgements: an append-only audit trail. A row is never deleted; the one change allowed
-- is recording, once, that it was undone. An acknowledgement holds for the values it was given
-- on: a finding whose values change is new again.
CREATE TABLE finding_acknowledgements (
  id                bigserial PRIMARY KEY,
  charge_key        text NOT NULL,
  code              text NOT NULL,
  field             text NOT NULL,
  entry_id          text NOT NULL,
  ledger_value      text,
  gateway_value     text,
  note              text NOT NULL,
  acked_by          text NOT NULL,
  acked_at          timestamptz NOT NULL DEFAULT now(),
  undone_by         text,
  undone_at         timestamptz,
  CHECK ((undone_at IS NULL) = (undone_by IS NULL))
);
CREATE INDEX finding_acknowledgements_active ON finding_acknowledgements (charge_key, code, field, entry_id) WHERE undone_at IS NULL;

CREATE FUNCTION finding_acknowledgements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
    RAISE EXCEPTION 'finding_acknowledgements is an audit trail: rows are never deleted';
  END IF;
  IF OLD.undone_at IS NOT NULL
     OR (to_jsonb(NEW) - 'undone_at' - 'undone_by') IS DISTINCT FROM (to_jsonb(OLD) - 'undone_at' - 'undone_by') THEN
    RAISE EXCEPTION 'finding_acknowledgements is an audit trail: only undoing an acknowledgement, once, is recorded';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER finding_acknowledgements_append_only BEFORE UPDATE OR DELETE ON finding_acknowledgements
  FOR EACH ROW EXECUTE FUNCTION finding_acknowledgements_append_only();
CREATE TRIGGER finding_acknowledgements_no_truncate BEFORE TRUNCATE ON finding_acknowledgements
  FOR EACH STATEMENT EXECUTE FUNCTION finding_acknowledgements_append_only();

-- Per run: which charge a finding or result belongs to, and each finding's state in that run.
ALTER TABLE recon_mismatches
  ADD COLUMN charge_key      text,
  ADD COLUMN finding_state   text CHECK (finding_state IN ('new', 'still_open', 'acknowledged')),
  ADD COLUMN first_seen_on   date,
  ADD COLUMN acknowledged_by text,
  ADD COLUMN ack_note        text;
ALTER TABLE recon_charge_results
  ADD COLUMN charge_key   text,
  ADD COLUMN open_reason  text,
  ADD COLUMN open_message text;
CREATE INDEX recon_mismatches_by_charge ON recon_mismatches (run_id, charge_key);
