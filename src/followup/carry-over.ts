import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import { shiftDate } from '../dates.ts';
import type { ChargeCase } from '../reconcile/charge-case.ts';
import { chargeKey } from '../reconcile/charge-case.ts';
import { activeAcknowledgement } from './acknowledged.ts';

/** What a run carries over to the next (docs/reference.md §4.21, §4.22); written in the run's transaction. */
export interface CarryOver {
  readonly runId: string;
  /** The day the run looks back on: its as-of day minus one. */
  readonly night: string;
  /** Ages, in nights since the charge's date, at which a final charge is asked again. */
  readonly recheckAges: readonly number[];
  /** Charges that were due but not asked: the night's request budget ran out. */
  readonly deferred: Deferred;
}

/** Charges due but not asked: cases in `run_case_rows`, and cases held (the late round's). */
export interface Deferred {
  /** Ranges of case numbers, both ends included; an empty range ends before it starts. */
  readonly ranges: readonly (readonly [number, number])[];
  readonly held: ChargeCase[];
}

export function deferredCount(deferred: Deferred): number {
  return deferred.ranges.reduce((n, [first, last]) => n + Math.max(0, last - first + 1), deferred.held.length);
}

export interface CarriedCounts {
  readonly new_findings: number;
  readonly acknowledged: number;
  readonly resolved_findings: number;
  /** Open charges after the run, stale ones included. */
  readonly open: number;
}

/**
 * Runs after the run's own rows (`recon_mismatches`, `recon_charge_results`) are inserted, in the
 * same transaction: marks each of the run's findings `new`, `still_open` or `acknowledged`,
 * resolves the earlier findings of the charges it asked about that it no longer finds, and
 * brings `findings` and `charge_state` up to date. Set-based SQL: the run's size does not matter.
 */
export async function carryOver(trx: Kysely<Database>, input: CarryOver): Promise<CarriedCounts> {
  const { runId, night } = input;
  await markFindingStates(trx, runId, night);
  const resolved = await resolveFindings(trx, runId, night);
  await recordFindings(trx, runId);
  await recordChargeStates(trx, input);
  await closeRekeyedStates(trx, night);
  await recordDeferred(trx, input);
  await recordNotificationsDealt(trx, input);
  const { rows } = await sql<{ new_findings: number; acknowledged: number; open: number }>`
    SELECT
      (SELECT count(*) FROM recon_mismatches WHERE run_id = ${runId} AND finding_state = 'new')::int AS new_findings,
      (SELECT count(*) FROM recon_mismatches WHERE run_id = ${runId} AND finding_state = 'acknowledged')::int AS acknowledged,
      (SELECT count(*) FROM charge_state WHERE open)::int AS open`.execute(trx);
  return { ...rows[0]!, resolved_findings: resolved };
}

/** The run's findings with the identity columns of `findings` ('' for no field or row). */
function runFindings(runId: string) {
  return sql`(SELECT m.*, coalesce(m.field, '') AS f_field, coalesce(m.entry_id, '') AS f_entry FROM recon_mismatches m WHERE m.run_id = ${runId})`;
}

/**
 * docs/reference.md §4.22: `new` unless an unresolved finding of the same identity has the same values;
 * then `acknowledged` when an acknowledgement given on those values stands, else `still_open`.
 * A new finding is first seen tonight; the others keep the night they were first seen.
 */
async function markFindingStates(trx: Kysely<Database>, runId: string, night: string): Promise<void> {
  await sql`
    UPDATE recon_mismatches m SET
      finding_state = s.state,
      first_seen_on = CASE WHEN s.state = 'new' THEN ${night}::date ELSE s.first_seen_on END,
      acknowledged_by = CASE WHEN s.state = 'acknowledged' THEN s.acked_by END,
      ack_note = CASE WHEN s.state = 'acknowledged' THEN s.note END
    FROM (
      SELECT r.seq, f.first_seen_on, ack.acked_by, ack.note,
        CASE
          WHEN f.charge_key IS NULL OR f.resolved_on IS NOT NULL
            OR f.ledger_value IS DISTINCT FROM r.ledger_value OR f.gateway_value IS DISTINCT FROM r.gateway_value THEN 'new'
          WHEN ack.acked_by IS NOT NULL THEN 'acknowledged'
          ELSE 'still_open'
        END AS state
      FROM (SELECT seq, charge_key, code, f_field AS field, f_entry AS entry_id, ledger_value, gateway_value FROM ${runFindings(runId)} x) r
      LEFT JOIN findings f ON f.charge_key = r.charge_key AND f.code = r.code AND f.field = r.field AND f.entry_id = r.entry_id
      ${activeAcknowledgement('r')}
    ) s
    WHERE m.run_id = ${runId} AND m.seq = s.seq`.execute(trx);
}

/**
 * An earlier finding is resolved when the run asked about its charge, had a definite answer
 * (an unverified charge says nothing about its earlier findings), and no longer finds it. So is
 * one about a ledger row the run reconciled, with a definite answer, under another charge key
 * (a row that gained its charge id): the run's findings about that row are under its new key.
 */
async function resolveFindings(trx: Kysely<Database>, runId: string, night: string): Promise<number> {
  const resolved = sql`resolved_run_id = ${runId}, resolved_on = ${night}::date, resolved_reason = 'reconciled'`;
  // A forged notification is evidence whoever asks about the charge it claims: only an
  // acknowledgement closes it.
  const asked = await sql`
    UPDATE findings f SET ${resolved}
    WHERE f.resolved_on IS NULL AND f.code <> 'NOTIFY_CHECKSUM_INVALID'
      AND f.charge_key IN (SELECT charge_key FROM recon_charge_results WHERE run_id = ${runId} AND status <> 'UNVERIFIED')
      AND NOT EXISTS (
        SELECT 1 FROM ${runFindings(runId)} r
        WHERE r.charge_key = f.charge_key AND r.code = f.code AND r.f_field = f.field AND r.f_entry = f.entry_id)`.execute(trx);
  const rekeyed = await sql`
    UPDATE findings f SET ${resolved}
    FROM ${reconciledRows(sql`status <> 'UNVERIFIED'`)} r
    WHERE f.resolved_on IS NULL AND f.entry_id = r.entry_id AND f.charge_key <> r.charge_key`.execute(trx);
  // A charge that was NOT_IN_LEDGER is in the ledger once a run reconciles a ledger charge row of
  // it, whichever id that row names it by (a card row may have only its reference order).
  const booked = await sql`
    UPDATE findings f SET ${resolved}
    WHERE f.resolved_on IS NULL AND f.code = 'NOT_IN_LEDGER'
      AND f.charge_id IN (SELECT charge_id FROM recon_charge_results WHERE run_id = ${runId} AND entry_id IS NOT NULL AND status <> 'UNVERIFIED')`.execute(trx);
  return Number(asked.numAffectedRows ?? 0n) + Number(rekeyed.numAffectedRows ?? 0n) + Number(booked.numAffectedRows ?? 0n);
}

/** Every ledger row of the run's charges (those `where` picks), with the key it was reconciled under. */
function reconciledRows(where: RawBuilder<unknown>) {
  return sql`(
    SELECT entry_id, charge_key FROM run_draft_charges WHERE ${where}
    UNION ALL
    SELECT unnest(other_entry_ids), charge_key FROM run_draft_charges WHERE other_entry_ids IS NOT NULL AND ${where})`;
}

/**
 * A charge followed under a key its ledger row no longer has (the row gained a charge id) is
 * closed once the run has reconciled the row under its new key, so it is not asked for ever.
 * Only an open or due one can be asked again: the others are left as they are (and one that
 * becomes due is closed by the night that reconciles its row under the new key).
 */
async function closeRekeyedStates(trx: Kysely<Database>, night: string): Promise<void> {
  await sql`
    UPDATE charge_state s SET open = false, open_reason = NULL, open_message = NULL, open_since = NULL, next_ask_on = NULL
    FROM ${reconciledRows(sql`true`)} r
    WHERE (s.open OR s.next_ask_on <= ${night}::date) AND s.entry_id = r.entry_id AND s.charge_key <> r.charge_key
      AND (s.last_asked_on IS NULL OR s.last_asked_on <= ${night}::date)`.execute(trx);
}

/** The run's findings become the current ones: new ones start afresh, the others are refreshed. */
async function recordFindings(trx: Kysely<Database>, runId: string): Promise<void> {
  // One row per identity: should a run report the same identity twice, the first one counts.
  const latest = sql`(SELECT DISTINCT ON (charge_key, code, f_field, f_entry) * FROM ${runFindings(runId)} x ORDER BY charge_key, code, f_field, f_entry, seq)`;
  await sql`
    INSERT INTO findings AS f (charge_key, code, field, entry_id, transaction_date, source_type, charge_id, reference_order,
      severity, ledger_value, gateway_value, difference, message, first_seen_on, first_run_id, last_run_id, resolved_on, resolved_run_id)
    SELECT r.charge_key, r.code, r.f_field, r.f_entry, r.transaction_date, r.source_type, r.charge_id, r.reference_order,
      r.severity, r.ledger_value, r.gateway_value, r.difference, r.message, r.first_seen_on, ${runId}, ${runId}, NULL, NULL
    FROM ${latest} r
    ON CONFLICT (charge_key, code, field, entry_id) DO UPDATE SET
      transaction_date = EXCLUDED.transaction_date, source_type = EXCLUDED.source_type, charge_id = EXCLUDED.charge_id,
      reference_order = EXCLUDED.reference_order, severity = EXCLUDED.severity, ledger_value = EXCLUDED.ledger_value,
      gateway_value = EXCLUDED.gateway_value, difference = EXCLUDED.difference, message = EXCLUDED.message,
      first_seen_on = EXCLUDED.first_seen_on,
      -- a finding that goes on keeps the run that first reported it
      first_run_id = CASE WHEN f.first_seen_on = EXCLUDED.first_seen_on AND f.resolved_on IS NULL THEN f.first_run_id ELSE EXCLUDED.first_run_id END,
      last_run_id = EXCLUDED.last_run_id, resolved_on = NULL, resolved_run_id = NULL, resolved_reason = NULL`.execute(trx);
}

/**
 * docs/reference.md §4.21: the charge's latest answer, open or final and why, and when it is next due: an
 * open charge the next night, a final one at the next re-check age it has not reached yet. A
 * charge stays open since the night its open stretch began: tonight, or (v3) the day its
 * earliest pending refund was booked, when that is earlier, since a refund booked after the
 * charge was final re-opens it from that day. A run that looks back on an earlier night than the
 * state's (a replay of an old night) does not overwrite newer knowledge.
 */
async function recordChargeStates(trx: Kysely<Database>, input: CarryOver): Promise<void> {
  const { runId, night } = input;
  const ages = [...input.recheckAges];
  await sql`
    INSERT INTO charge_state AS s (charge_key, entry_id, transaction_date, source_type, currency, amount, charge_id, reference_order,
      open, open_reason, open_message, open_since, first_seen_on, last_asked_on, last_asked_at, last_inquiry_id, last_run_id, next_ask_on)
    SELECT c.charge_key, c.entry_id, c.transaction_date, c.source_type, c.currency, c.amount, c.charge_id, c.reference_order,
      c.open, c.open_reason, c.open_message, CASE WHEN c.open_reason = 'REFUND_PENDING' THEN LEAST(${night}::date, ${pendingRefundBooked(runId)}) WHEN c.open THEN ${night}::date END, ${night}::date, ${night}::date,
      gi.fetched_at, gi.id, ${runId},
      CASE WHEN c.open THEN ${night}::date + 1
        ELSE (SELECT c.transaction_date + min(a) FROM unnest(${ages}::int[]) a WHERE c.transaction_date + a > ${night}::date) END
    FROM recon_charge_results c
    LEFT JOIN gateway_inquiries gi ON gi.run_id = c.run_id AND gi.charge_key = c.charge_key
    -- A charge no ledger row names is followed through its notifications, not as a ledger charge.
    WHERE c.run_id = ${runId} AND c.entry_id IS NOT NULL
    ON CONFLICT (charge_key) DO UPDATE SET
      entry_id = EXCLUDED.entry_id, transaction_date = EXCLUDED.transaction_date, source_type = EXCLUDED.source_type,
      currency = EXCLUDED.currency, amount = EXCLUDED.amount, charge_id = EXCLUDED.charge_id, reference_order = EXCLUDED.reference_order,
      open = EXCLUDED.open, open_reason = EXCLUDED.open_reason, open_message = EXCLUDED.open_message,
      open_since = CASE WHEN EXCLUDED.open AND s.open THEN s.open_since ELSE EXCLUDED.open_since END,
      last_asked_on = EXCLUDED.last_asked_on, last_asked_at = EXCLUDED.last_asked_at, last_inquiry_id = EXCLUDED.last_inquiry_id,
      last_run_id = EXCLUDED.last_run_id, next_ask_on = EXCLUDED.next_ask_on
    WHERE s.last_asked_on IS NULL OR s.last_asked_on <= EXCLUDED.last_asked_on`.execute(trx);
}

/**
 * The day the earliest refund of the charge (`c`) this run found pending was booked. Asked only
 * of a charge open for that reason, which a pending refund always gives (the refund checks come
 * before the settlement's), so the run's other open charges cost nothing here.
 */
function pendingRefundBooked(runId: string) {
  return sql`(SELECT min(l.entry_date) FROM recon_mismatches m JOIN ledger_entries l ON l.entry_id = m.entry_id
    WHERE m.run_id = ${runId} AND m.charge_key = c.charge_key AND m.code = 'REFUND_PENDING')`;
}

/**
 * The notifications this run dealt with (docs/reference.md §6), so no
 * later night takes them again: those its charges were checked against, where KBank answered
 * definitely (an unverified charge's are taken again the next night), and the forged ones it
 * reported. A notified charge the request budget deferred was not asked: its notification waits.
 */
async function recordNotificationsDealt(trx: Kysely<Database>, input: CarryOver): Promise<void> {
  const dealt = sql`dealt_on = ${input.night}::date, dealt_run_id = ${input.runId}`;
  await sql`
    UPDATE notification_outcomes o SET ${dealt}, charge_key = c.charge_key
    FROM (
      SELECT DISTINCT ON (x.id) x.id, x.charge_key
      FROM (SELECT unnest(notification_ids) AS id, charge_key FROM run_draft_charges WHERE notification_ids IS NOT NULL AND status <> 'UNVERIFIED') x
      ORDER BY x.id
    ) c
    WHERE o.notification_id = c.id AND o.dealt_on IS NULL`.execute(trx);
  await sql`
    UPDATE notification_outcomes o SET ${dealt}, charge_key = coalesce(n.charge_id, n.reference_order, n.order_id)
    FROM run_notifications r JOIN notifications n USING (notification_id)
    WHERE o.notification_id = r.notification_id AND o.dealt_on IS NULL`.execute(trx);
}

/**
 * A deferred charge no run has asked about yet is recorded as open, so the next night picks it
 * up with the other open charges; one already known keeps its state, and stays due. In case
 * order: should two cases have the same key, the first one counts.
 */
async function recordDeferred(trx: Kysely<Database>, input: CarryOver): Promise<void> {
  const { night } = input;
  const next = shiftDate(night, 1);
  const message = 'due but not asked yet: the night\u2019s request budget ran out';
  const ranges = input.deferred.ranges.filter(([first, last]) => first <= last);
  const inRanges = sql.join(ranges.map(([first, last]) => sql`r.case_no BETWEEN ${first} AND ${last}`), sql` OR `);
  if (ranges.length) await sql`
    INSERT INTO charge_state (charge_key, entry_id, transaction_date, source_type, currency, amount, charge_id, reference_order,
      open, open_reason, open_message, open_since, first_seen_on, next_ask_on)
    SELECT r.charge_key, l.entry_id, l.transaction_date, l.source_type, l.currency, CASE WHEN r.orphan THEN 0.00 ELSE l.amount END,
      l.charge_id, l.reference_order, true, 'DEFERRED', ${message}, ${night}::date, ${night}::date, ${next}::date
    FROM run_case_rows r JOIN ledger_entries l USING (entry_id)
    WHERE r.charge_key IS NOT NULL AND (${inRanges})
    ORDER BY r.case_no
    ON CONFLICT (charge_key) DO NOTHING`.execute(trx);
  const rows = input.deferred.held.map((c) => ({
    charge_key: chargeKey(c.charge),
    entry_id: c.charge.entry_id,
    transaction_date: c.charge.transaction_date,
    source_type: c.charge.source_type,
    currency: c.charge.currency,
    amount: c.orphan ? '0.00' : c.charge.amount,
    charge_id: c.charge.charge_id,
    reference_order: c.charge.reference_order,
    open: true,
    open_reason: 'DEFERRED' as const,
    open_message: message,
    open_since: night,
    first_seen_on: night,
    next_ask_on: next,
  }));
  for (let i = 0; i < rows.length; i += 1000) {
    await trx.insertInto('charge_state').values(rows.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
  }
}
