-- KBank's WebHook Notify calls (`notify-receiver`, `notify-import`): the gateway's own word on
-- each payment, kept as evidence. The body is stored exactly as received (text, never re-formatted);
-- the fields the nightly compares are read out of it once, here, so that asking "what did KBank
-- notify about this charge" is a plain query. A repeated notification (the same bytes, as KBank
-- sends on a retry) is stored once: body_sha256 is unique. Rows are never changed.
CREATE TABLE notifications (
  notification_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  merchant          text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), ''),
  body_sha256       bytea NOT NULL UNIQUE CHECK (octet_length(body_sha256) = 32),
  body              text NOT NULL,
  received_at       timestamptz NOT NULL,
  received_via      text NOT NULL CHECK (received_via IN ('http', 'import')),
  -- http: the peer address (and X-Forwarded-For as given); import: file:line.
  received_from     text NOT NULL,
  -- 'valid': the checksum verifies with the merchant's key; 'invalid': it does not, or the body
  -- lacks a field it covers. An invalid notification is evidence, never trusted.
  checksum_verdict  text NOT NULL CHECK (checksum_verdict IN ('valid', 'invalid')),
  -- Read from the body; NULL where the body lacks the field or holds something unreadable.
  charge_id         text,
  order_id          text,
  reference_order   text,
  -- The ledger's vocabulary (card, qr, wechat, alipay, unionpay), from the body's source.
  source_type       text,
  amount            numeric,
  currency          text,
  status            text,
  transaction_state text,
  livemode          boolean
);
CREATE INDEX notifications_charge ON notifications (charge_id);
CREATE INDEX notifications_received ON notifications (received_at);

CREATE FUNCTION notifications_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'notifications are evidence: a stored notification is never changed';
END $$;
CREATE TRIGGER notifications_unchanged BEFORE UPDATE ON notifications
  FOR EACH ROW EXECUTE FUNCTION notifications_unchanged();

-- Notifications whose checksum fails are kept up to a bound per hour, so a flood of forgeries
-- cannot fill the disk; past it they are counted here and not stored.
CREATE TABLE notification_invalid_hours (
  merchant  text NOT NULL DEFAULT coalesce(current_setting('kpgw.merchant', true), ''),
  hour      timestamptz PRIMARY KEY,
  stored    integer NOT NULL DEFAULT 0 CHECK (stored >= 0),
  dropped   integer NOT NULL DEFAULT 0 CHECK (dropped >= 0)
);
