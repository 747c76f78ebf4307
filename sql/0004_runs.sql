-- Reconciliation runs and their results (docs/reference.md §5). Results of a run become visible to
-- readers only once the run is 'finished': readers take the latest finished run per date.
CREATE TABLE recon_runs (
  run_id        uuid PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('run', 'nightly', 'rerun', 'demo')),
  from_date     date NOT NULL,
  to_date       date NOT NULL,
  as_of         date NOT NULL,
  status        text NOT NULL CHECK (status IN ('running', 'finished', 'aborted')),
  -- what identifies "the same command" when an interrupted run is started again
  params_key    text NOT NULL,
  pid           integer NOT NULL,
  host          text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  abort_reason  text,
  exit_code     integer,
  report_dir    text,
  counts        jsonb,
  gateway       jsonb,
  timings_ms    jsonb,
  duration_ms   integer
);
CREATE INDEX recon_runs_finished_by_range ON recon_runs (from_date, to_date, finished_at) WHERE status = 'finished';

-- The audit trail: every answer the gateway gave, as it gave it.
CREATE TABLE gateway_inquiries (
  id            bigserial PRIMARY KEY,
  run_id        uuid NOT NULL REFERENCES recon_runs (run_id) ON DELETE CASCADE,
  -- the ledger's charge key (charge_id, else reference_order, else order_id)
  charge_key    text NOT NULL,
  request_path  text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('found', 'not_found', 'failed')),
  http_status   integer,
  attempts      integer NOT NULL,
  failure       text,
  body          jsonb,
  fetched_at    timestamptz NOT NULL DEFAULT now(),
  -- the run that asked; differs from run_id when a resumed run reuses an interrupted run's answer
  fetched_by_run uuid NOT NULL
);
CREATE UNIQUE INDEX gateway_inquiries_one_per_charge ON gateway_inquiries (run_id, charge_key);

CREATE TABLE recon_mismatches (
  run_id           uuid NOT NULL REFERENCES recon_runs (run_id) ON DELETE CASCADE,
  seq              integer NOT NULL,
  transaction_date date NOT NULL,
  source_type      text NOT NULL,
  charge_id        text,
  reference_order  text,
  entry_id         text,
  code             text NOT NULL,
  severity         text NOT NULL CHECK (severity IN ('error', 'warning')),
  field            text,
  ledger_value     text,
  gateway_value    text,
  difference       numeric(16, 4),
  message          text NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX recon_mismatches_by_date ON recon_mismatches (transaction_date, run_id);

CREATE TABLE recon_daily_summary (
  run_id           uuid NOT NULL REFERENCES recon_runs (run_id) ON DELETE CASCADE,
  transaction_date date NOT NULL,
  source_type      text NOT NULL,
  currency         text NOT NULL,
  charges          integer NOT NULL,
  matched          integer NOT NULL,
  mismatched       integer NOT NULL,
  unverified       integer NOT NULL,
  gross_amount     numeric(16, 2) NOT NULL,
  settled_amount   numeric(16, 2) NOT NULL,
  mdr              numeric(16, 2) NOT NULL,
  vat              numeric(16, 2) NOT NULL,
  net_amount       numeric(16, 2) NOT NULL,
  refunded_amount  numeric(16, 2) NOT NULL,
  PRIMARY KEY (run_id, transaction_date, source_type, currency)
);

-- One row per charge and run: what the finance export reads.
CREATE TABLE recon_charge_results (
  run_id           uuid NOT NULL REFERENCES recon_runs (run_id) ON DELETE CASCADE,
  entry_id         text NOT NULL,
  transaction_date date NOT NULL,
  reference_order  text,
  charge_id        text,
  source_type      text NOT NULL,
  brand            text,
  currency         text NOT NULL,
  amount           numeric(14, 2) NOT NULL,
  settled_amount   numeric(16, 4),
  mdr              numeric(16, 4),
  vat              numeric(16, 4),
  net_amount       numeric(16, 4),
  refunded_amount  numeric(16, 2) NOT NULL,
  status           text NOT NULL CHECK (status IN ('MATCHED', 'MISMATCH', 'UNVERIFIED', 'PENDING')),
  codes            text[] NOT NULL,
  PRIMARY KEY (run_id, entry_id)
);
CREATE INDEX recon_charge_results_by_date ON recon_charge_results (transaction_date, run_id);

-- The fee schedules given to `run --fees`; `rerun` uses the latest.
CREATE TABLE fee_schedules (
  id          bigserial PRIMARY KEY,
  source_file text NOT NULL,
  schedule    jsonb NOT NULL,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
