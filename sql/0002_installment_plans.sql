-- Installment Plan Reports exported from the KPGW Merchant Portal (docs/reference.md §3.2). A report
-- covers one supplier; importing a newer one replaces that supplier's plans.
CREATE TABLE installment_plan_reports (
  supplier_no  text PRIMARY KEY,
  file_name    text NOT NULL,
  period_from  date NOT NULL,
  period_to    date NOT NULL,
  row_count    integer NOT NULL,
  imported_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE installment_plans (
  supplier_no    text NOT NULL REFERENCES installment_plan_reports (supplier_no) ON DELETE CASCADE,
  seq_no         integer NOT NULL,
  promotion_name text NOT NULL,
  valid_from     date NOT NULL,
  valid_to       date NOT NULL,
  ipan_mode      text NOT NULL,
  product_name   text NOT NULL,
  -- ProductType is a number in the report and "003" on the charge: stored as a number
  product_type   integer NOT NULL,
  model_no       text NOT NULL,
  plan_id        integer NOT NULL,
  model_name     text NOT NULL,
  min_price      numeric(11, 2) NOT NULL,
  max_price      numeric(11, 2) NOT NULL,
  payment_term   integer NOT NULL,
  card_type      text NOT NULL,
  source_line    integer NOT NULL,
  PRIMARY KEY (supplier_no, seq_no)
);

CREATE INDEX installment_plans_lookup ON installment_plans (supplier_no, plan_id, model_no, product_type);
