import { sql, type Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import { startOfDayIn, todayIn } from '../dates.ts';
import { addWantedCases } from '../followup/due-charges.ts';
import { dateOf17 } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { isLive } from '../ingest/retracted.ts';
import { identifiers, type ChargeCase, type NotifiedPayment, type NumberedCase } from '../reconcile/charge-case.ts';
import { isSourceType } from '../vocabulary.ts';
import type { RunRequest } from './run-request.ts';

/** What a run takes of KBank's notifications (docs/reference.md §6). */
export interface NotificationScope {
  /**
   * Only notifications received before this moment count: the start of the run's as-of day, so
   * a night replayed later decides exactly as it would have on the morning after it.
   */
  readonly receivedBefore: Date;
  /** `nightly` and the demo: the notified charges no case of the run has join the charges asked. */
  readonly join: boolean;
  /** `RECON_NOTIFY_GRACE_HOURS`: how long a notified charge may be missing from the ledger. */
  readonly graceHours: number;
  /** `RECON_TZ`: the day a notification without KBank's own date is dated by. */
  readonly tz: string;
}

export function notificationScope(request: Pick<RunRequest, 'asOf' | 'notifications'>, config: Pick<Config, 'tz' | 'recon'>): NotificationScope {
  return {
    receivedBefore: request.notifications?.receivedBefore ?? startOfDayIn(request.asOf, config.tz),
    join: request.notifications !== undefined,
    graceHours: request.notifications?.graceHours ?? config.recon.notifyGraceHours,
    tz: config.tz,
  };
}

/** The verified notifications of a successful payment received before `before` (`n`: notifications). */
const verifiedSuccess = (before: Date) => sql`n.checksum_verdict = 'valid' AND lower(n.status) = 'success' AND n.received_at < ${before}`;

/**
 * The notified charges a night asks about besides its own cases, added as cases numbered from
 * `firstNo` (docs/reference.md §6). The night takes every verified
 * notification of a successful payment received before its moment that no night has dealt with
 * yet. One whose charge a case of the run already has is dealt with there. The others, a charge
 * each, oldest first: when a live ledger charge row names the charge (by charge id, reference
 * order or order id), its case from the ledger; when none does and the grace hours since the
 * charge's first notification are over, a case of its own, its notification; within the grace
 * hours it waits for the ledger (`waiting`), not asked, and is taken again the next night.
 * A charge found `NOT_IN_LEDGER` is watched the same way until the ledger books it: the night a
 * ledger charge row names it, that row's case is asked, which resolves the finding.
 */
export async function addNotifiedCases(db: Kysely<Database>, scope: NotificationScope, firstNo: number): Promise<{ count: number; waiting: number }> {
  return db.transaction().execute(async (trx) => {
    await sql`
      CREATE TEMP TABLE night_notes ON COMMIT DROP AS
      SELECT n.notification_id, n.charge_id, n.order_id, n.reference_order, n.received_at
      FROM notification_outcomes o JOIN notifications n USING (notification_id)
      WHERE o.dealt_on IS NULL AND o.verified AND o.received_at < ${scope.receivedBefore} AND ${verifiedSuccess(scope.receivedBefore)}`.execute(trx);
    await sql`
      CREATE TEMP TABLE unbooked ON COMMIT DROP AS
      SELECT f.first_seen_on::timestamptz AS received_at, f.charge_id, f.reference_order,
        -- a Thai QR charge's order id, which a ledger may name it by alone, is its notification's
        (SELECT n.order_id FROM notifications n WHERE n.charge_id = f.charge_id AND n.checksum_verdict = 'valid' AND n.order_id IS NOT NULL LIMIT 1) AS order_id
      FROM findings f
      WHERE f.code = 'NOT_IN_LEDGER' AND f.resolved_on IS NULL`.execute(trx);
    const { rows: [pending] } = await sql<{ n: number }>`SELECT (SELECT count(*) FROM night_notes) + (SELECT count(*) FROM unbooked) AS n`.execute(trx);
    if (Number(pending!.n) === 0) return { count: 0, waiting: 0 };

    // Those whose charge the run has: the ids of every row of its cases.
    await sql`
      CREATE TEMP TABLE case_ids ON COMMIT DROP AS
      SELECT DISTINCT id FROM run_case_rows r JOIN ledger_entries l USING (entry_id), unnest(ARRAY[l.charge_id, l.reference_order, l.order_id]) AS id
      WHERE id IS NOT NULL`.execute(trx);
    await sql`ANALYZE case_ids`.execute(trx);
    const inCases = sql`(SELECT id FROM case_ids)`;
    await sql`DELETE FROM night_notes WHERE charge_id IN ${inCases} OR order_id IN ${inCases} OR reference_order IN ${inCases}`.execute(trx);
    await sql`DELETE FROM unbooked WHERE charge_id IN ${inCases} OR reference_order IN ${inCases} OR order_id IN ${inCases}`.execute(trx);

    // The live ledger charge rows naming the rest, in one pass over the ledger (no index on its ids).
    await sql`
      CREATE TEMP TABLE note_ids ON COMMIT DROP AS
      SELECT notification_id, received_at, id FROM night_notes, unnest(ARRAY[charge_id, reference_order, order_id]) AS id WHERE id IS NOT NULL
      UNION ALL
      SELECT NULL, received_at, id FROM unbooked, unnest(ARRAY[charge_id, reference_order, order_id]) AS id WHERE id IS NOT NULL`.execute(trx);
    const noteIds = sql`(SELECT id FROM note_ids)`;
    await sql`
      CREATE TEMP TABLE note_rows ON COMMIT DROP AS
      SELECT l.charge_id, l.reference_order, l.order_id, coalesce(l.charge_id, l.reference_order, l.order_id) AS charge_key
      FROM ledger_entries l
      WHERE l.entry_type = 'charge' AND ${isLive('l')} AND (l.charge_id IN ${noteIds} OR l.reference_order IN ${noteIds} OR l.order_id IN ${noteIds})`.execute(trx);
    await sql`
      CREATE TEMP TABLE note_named ON COMMIT DROP AS
      SELECT DISTINCT i.notification_id, i.received_at, r.charge_key FROM note_ids i JOIN note_rows r ON i.id IN (r.charge_id, r.reference_order, r.order_id)`.execute(trx);

    // One wanted charge each, by its first notification: the ledger's, or the notification's own.
    const graceOver = new Date(scope.receivedBefore.getTime() - scope.graceHours * 3_600_000);
    await sql`
      CREATE TEMP TABLE notified_wanted ON COMMIT DROP AS
      SELECT charge_key, min(received_at) AS received_at, NULL::bigint AS notification_id FROM note_named GROUP BY charge_key
      UNION ALL
      (SELECT DISTINCT ON (key) key, received_at, notification_id
       FROM night_notes, coalesce(charge_id, order_id, reference_order) AS key
       WHERE notification_id NOT IN (SELECT notification_id FROM note_named WHERE notification_id IS NOT NULL)
       ORDER BY key, received_at, notification_id)`.execute(trx);
    const { rows: waiting } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM notified_wanted WHERE notification_id IS NOT NULL AND received_at > ${graceOver}`.execute(trx);
    await sql`
      CREATE TEMP TABLE due_wanted ON COMMIT DROP AS
      SELECT row_number() OVER (ORDER BY received_at, charge_key)::int AS ord, charge_key, 'notified'::text AS due, notification_id
      FROM notified_wanted w
      WHERE (w.notification_id IS NULL OR w.received_at <= ${graceOver})
        AND NOT EXISTS (SELECT 1 FROM run_case_rows r WHERE r.charge_key = w.charge_key)`.execute(trx);
    const added = await addWantedCases(trx, firstNo);
    return { count: added.count, waiting: waiting[0]!.n };
  });
}

/** A notification as a notified charge's case stands on it. */
interface NotifiedRow {
  case_no: number;
  notification_id: string;
  merchant: string;
  body: string;
  received_at: Date;
  charge_id: string | null;
  order_id: string | null;
  reference_order: string | null;
  source_type: string | null;
  amount: string | null;
  currency: string | null;
}

/** The cases `first` to `last` of charges no ledger row names (added by {@link addNotifiedCases}). */
export async function notifiedOnlyCases(db: Kysely<Database>, first: number, last: number, tz: string): Promise<NumberedCase[]> {
  const { rows } = await sql<NotifiedRow>`
    SELECT r.case_no, n.notification_id::text AS notification_id, n.merchant, n.body, n.received_at, n.charge_id, n.order_id,
      n.reference_order, n.source_type, n.amount::text AS amount, n.currency
    FROM run_case_rows r JOIN notifications n USING (notification_id)
    WHERE r.case_no BETWEEN ${first} AND ${last}
    ORDER BY r.case_no`.execute(db);
  return rows.map((row) => ({
    no: row.case_no,
    chargeCase: { charge: standIn(row, tz), orphan: false, notifiedOnly: true, duplicates: [], refunds: [], voids: [], notifications: [] },
  }));
}

/**
 * The ledger row a notified charge would have, from its notification: its ids, payment type,
 * currency and amount, dated by KBank's `created` (else the day it was received, in `RECON_TZ`).
 * It has no `entry_id`: there is no such row.
 */
function standIn(n: NotifiedRow, tz: string): LedgerEntry {
  const created = createdOf(n.body);
  const date = (created && dateOf17(created)) || todayIn(tz, n.received_at);
  const sourceType = n.source_type && isSourceType(n.source_type) ? n.source_type : n.order_id ? 'qr' : 'card';
  return {
    merchant: n.merchant, entry_id: '', entry_type: 'charge', reference_order: n.reference_order, charge_id: n.charge_id, order_id: n.order_id,
    transaction_date: date, entry_date: date, source_type: sourceType, currency: (n.currency ?? 'THB').toUpperCase(), amount: n.amount ?? '0',
    mdr: null, vat: null, net_amount: null, refund_id: null, mid: null, plan_id: null, ipan_mode: null, term: null, supplier_no: null,
    model_no: null, product_type: null, convfee_amount: null, convfee_vat: null, captured_amount: null,
    source_file: `notification ${n.notification_id}`, source_line: 0, ingested_at: n.received_at,
  };
}

function createdOf(body: string): string | undefined {
  const created = (JSON.parse(body) as Record<string, unknown>).created;
  return typeof created === 'string' || typeof created === 'number' ? String(created) : undefined;
}

/**
 * Gives each case its verified notifications of a successful payment received before `before`,
 * found by any id of its charge row, oldest first (the inquiry must not contradict them). One
 * query a page.
 */
export async function attachNotifications(db: Kysely<Database>, cases: readonly ChargeCase[], before: Date): Promise<void> {
  const byId = new Map<string, ChargeCase>();
  for (const c of cases) for (const id of identifiers(c.charge)) if (!byId.has(id)) byId.set(id, c);
  if (!byId.size) return;
  const ids = [...byId.keys()];
  const { rows } = await sql<{ notification_id: string; received_at: Date; charge_id: string | null; order_id: string | null; reference_order: string | null; transaction_state: string | null }>`
    SELECT n.notification_id::text AS notification_id, n.received_at, n.charge_id, n.order_id, n.reference_order, n.transaction_state
    FROM notifications n
    WHERE ${verifiedSuccess(before)} AND (n.charge_id = ANY(${ids}::text[]) OR n.order_id = ANY(${ids}::text[]) OR n.reference_order = ANY(${ids}::text[]))
    ORDER BY n.received_at, n.notification_id`.execute(db);
  for (const row of rows) {
    const owner = [row.charge_id, row.reference_order, row.order_id].map((id) => (id ? byId.get(id) : undefined)).find(Boolean);
    const notified: NotifiedPayment = {
      notificationId: row.notification_id,
      receivedAt: row.received_at,
      chargeId: row.charge_id,
      orderId: row.order_id,
      referenceOrder: row.reference_order,
      transactionState: row.transaction_state,
    };
    owner?.notifications.push(notified);
  }
}

/** Claims of forged notifications that get a finding each in one run; the rest share one. */
const FORGED_CLAIMS = 20;

/** What the run reports of the notifications whose checksum fails: one finding per claimed charge. */
export interface ForgedClaim {
  readonly chargeKey: string;
  readonly date: string;
  readonly sourceType: string;
  readonly chargeId: string | null;
  readonly referenceOrder: string | null;
  /** The amount claimed, as sent; for the claims past the first ones, how many notifications they are. */
  readonly amount: string;
  readonly message: string;
}

/**
 * The notifications whose checksum fails that no night has reported yet, received before the
 * run's moment, taken by this run (`run_notifications`, marked dealt with when it finishes): one
 * `NOTIFY_CHECKSUM_INVALID` each for the first {@link FORGED_CLAIMS} charges they claim (filed
 * under the claimed charge id, else reference, else order id, dated the day the first of them was
 * received), and one for all the others together, so a flood of forgeries, however large the
 * hourly bound lets it be, is a few findings. None is ever asked about: nothing in it can be trusted.
 */
export async function takeForgedNotifications(db: Kysely<Database>, scope: NotificationScope): Promise<ForgedClaim[]> {
  await db
    .insertInto('run_notifications')
    .columns(['notification_id'])
    .expression(
      db.selectFrom('notification_outcomes').select('notification_id').where('dealt_on', 'is', null).where('verified', '=', false).where('received_at', '<', scope.receivedBefore),
    )
    .execute();
  const claims = sql`(
    SELECT coalesce(n.charge_id, n.reference_order, n.order_id, '') AS claim, count(*)::int AS notifications,
      min(n.received_at) AS first_at, max(n.received_at) AS last_at,
      (array_agg(n.notification_id ORDER BY n.received_at, n.notification_id))[1] AS first_id
    FROM run_notifications r JOIN notifications n USING (notification_id) GROUP BY 1)`;
  const { rows: first } = await sql<{ claim: string; notifications: number; first_at: Date; charge_id: string | null; reference_order: string | null; source_type: string | null; amount: string | null; currency: string | null; status: string | null }>`
    SELECT c.claim, c.notifications, c.first_at, n.charge_id, n.reference_order, n.source_type, n.amount::text AS amount, n.currency, n.status
    FROM ${claims} c JOIN notifications n ON n.notification_id = c.first_id
    ORDER BY c.first_at, c.claim LIMIT ${FORGED_CLAIMS}`.execute(db);
  const found: ForgedClaim[] = first.map((c) => {
    const what = [c.reference_order && `reference ${c.reference_order}`, [c.amount, c.currency, c.status].filter(Boolean).join(' ')].filter(Boolean).join(', ');
    const many = c.notifications > 1;
    return {
      chargeKey: c.claim || NO_CLAIM,
      date: todayIn(scope.tz, c.first_at),
      sourceType: c.source_type ?? UNKNOWN_SOURCE,
      chargeId: c.charge_id,
      referenceOrder: c.reference_order,
      amount: c.amount ?? '',
      message: `${many ? `${c.notifications} notifications` : 'a notification'} received from ${c.first_at.toISOString()} claiming charge ${c.claim || '(no id)'}${what ? ` (${what})` : ''} ${many ? 'fail' : 'fails'} the checksum with the merchant's key: forged or altered, so never trusted and never asked about; kept as evidence in the notifications table`,
    };
  });
  if (first.length < FORGED_CLAIMS) return found;
  const { rows: [rest] } = await sql<{ claims: number; notifications: number; first_at: Date | null; last_at: Date | null }>`
    SELECT count(*)::int AS claims, coalesce(sum(notifications), 0)::int AS notifications, min(first_at) AS first_at, max(last_at) AS last_at
    FROM (SELECT * FROM ${claims} c ORDER BY c.first_at, c.claim OFFSET ${FORGED_CLAIMS}) c`.execute(db);
  if (!rest || rest.claims === 0) return found;
  found.push({
    chargeKey: MORE_CLAIMS,
    date: todayIn(scope.tz, rest.first_at!),
    sourceType: UNKNOWN_SOURCE,
    chargeId: null,
    referenceOrder: null,
    amount: String(rest.notifications),
    message: `${rest.notifications} more notifications claiming ${rest.claims} other charges, received from ${rest.first_at!.toISOString()} to ${rest.last_at!.toISOString()}, fail the checksum with the merchant's key: forged or altered, never trusted; kept as evidence in the notifications table (checksum_verdict invalid)`,
  });
  return found;
}

/** The payment type of a finding about forged notifications that claim none (or many). */
const UNKNOWN_SOURCE = 'unknown';
/** The charge key of a forged notification that claims no id at all. */
const NO_CLAIM = '(no charge id)';
/** The charge key of the finding that stands for the claims past the first {@link FORGED_CLAIMS}. */
const MORE_CLAIMS = '(more forged notifications)';
