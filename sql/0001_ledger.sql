-- The merchant's ledger: one row per ledger event (docs/reference.md §3.1), keyed by the ledger's own id.
CREATE TABLE ledger_entries (
  entry_id         text PRIMARY KEY,
  entry_type       text NOT NULL CHECK (entry_type IN ('charge', 'refund', 'void')),
  reference_order  text,
  charge_id        text,
  order_id         text,
  transaction_date date NOT NULL,
  entry_date       date NOT NULL,
  source_type      text NOT NULL CHECK (source_type IN ('card', 'qr', 'wechat', 'alipay', 'unionpay')),
  currency         text NOT NULL,
  amount           numeric(14, 2) NOT NULL CHECK (amount > 0),
  mdr              numeric(14, 2),
  vat              numeric(14, 2),
  net_amount       numeric(14, 2),
  refund_id        text,
  mid              text,
  plan_id          text,
  ipan_mode        text,
  term             integer,
  supplier_no      text,
  model_no         text,
  product_type     text,
  -- md5 of the canonical row: re-ingesting an unchanged row is a no-op, a changed one replaces it
  content_hash     text NOT NULL,
  source_file      text NOT NULL,
  source_line      integer NOT NULL,
  ingested_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (reference_order IS NOT NULL OR charge_id IS NOT NULL OR order_id IS NOT NULL)
);

CREATE INDEX ledger_entries_charges_by_date ON ledger_entries (transaction_date) WHERE entry_type = 'charge';
CREATE INDEX ledger_entries_charge_id ON ledger_entries (charge_id) WHERE charge_id IS NOT NULL;
CREATE INDEX ledger_entries_reference_order ON ledger_entries (reference_order) WHERE reference_order IS NOT NULL;
CREATE INDEX ledger_entries_order_id ON ledger_entries (order_id) WHERE order_id IS NOT NULL;
