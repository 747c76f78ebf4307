-- Ledger rows taken out of reconciliation because they were booked by mistake (`retract`). Like
-- the acknowledgements, an append-only audit trail: a row is never deleted; the one change
-- allowed is recording, once, that the retraction was undone. The ledger row itself stays
-- stored; while an active retraction names it, no reconciliation, report or finance output
-- counts it, and ingesting it again does not bring it back.
CREATE TABLE ledger_retractions (
  id            bigserial PRIMARY KEY,
  merchant      text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), ''),
  entry_id      text NOT NULL,
  reason        text NOT NULL,
  retracted_by  text NOT NULL,
  retracted_at  timestamptz NOT NULL DEFAULT now(),
  undone_by     text,
  undone_at     timestamptz,
  CHECK ((undone_at IS NULL) = (undone_by IS NULL))
);
-- At most one active retraction per ledger row.
CREATE UNIQUE INDEX ledger_retractions_active ON ledger_retractions (entry_id) WHERE undone_at IS NULL;

CREATE FUNCTION ledger_retractions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
    RAISE EXCEPTION 'ledger_retractions is an audit trail: rows are never deleted';
  END IF;
  IF OLD.undone_at IS NOT NULL
     OR (to_jsonb(NEW) - 'undone_at' - 'undone_by') IS DISTINCT FROM (to_jsonb(OLD) - 'undone_at' - 'undone_by') THEN
    RAISE EXCEPTION 'ledger_retractions is an audit trail: only undoing a retraction, once, is recorded';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_retractions_append_only BEFORE UPDATE OR DELETE ON ledger_retractions
  FOR EACH ROW EXECUTE FUNCTION ledger_retractions_append_only();
CREATE TRIGGER ledger_retractions_no_truncate BEFORE TRUNCATE ON ledger_retractions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_retractions_append_only();
