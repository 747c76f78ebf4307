import type { Generated, Insertable, Selectable } from 'kysely';
import type { DateText, Numeric } from '../ingest/ledger.table.ts';

export type ChecksumVerdict = 'valid' | 'invalid';
export type ReceivedVia = 'http' | 'import';

/** One WebHook Notify body as received (sql/0019_notifications.sql); never changed once stored. */
export interface NotificationTable {
  notification_id: Generated<string>;
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  /** SHA-256 of the body's bytes: the same bytes are the same notification, stored once. */
  body_sha256: Buffer;
  /** Exactly as received. */
  body: string;
  received_at: Date;
  received_via: ReceivedVia;
  /** http: the peer (and X-Forwarded-For as given); import: `file:line`. */
  received_from: string;
  checksum_verdict: ChecksumVerdict;
  charge_id: string | null;
  order_id: string | null;
  reference_order: string | null;
  /** The ledger's `source_type` vocabulary, read from the body's `source`. */
  source_type: string | null;
  amount: Numeric | null;
  currency: string | null;
  status: string | null;
  transaction_state: string | null;
  livemode: boolean | null;
}

/** Invalid notifications of one hour: how many were kept, and how many were past the bound and only counted. */
export interface NotificationInvalidHourTable {
  merchant: Generated<string>;
  hour: Date;
  stored: Generated<number>;
  dropped: Generated<number>;
}

/**
 * The notifications a night must deal with (a verified success, or a failing checksum), and which
 * night did (sql/0022_notifications_in_the_night.sql); `dealt_on` is null while one is pending.
 */
export interface NotificationOutcomeTable {
  notification_id: string;
  merchant: Generated<string>;
  received_at: Date;
  verified: boolean;
  dealt_on: DateText | null;
  dealt_run_id: string | null;
  /** The charge it was filed under: the case's key, or the charge a forged one claims. */
  charge_key: string | null;
}

export interface NotifyTables {
  notifications: NotificationTable;
  notification_invalid_hours: NotificationInvalidHourTable;
  notification_outcomes: NotificationOutcomeTable;
}

export type NotificationRow = Selectable<NotificationTable>;
export type NewNotification = Insertable<NotificationTable>;
