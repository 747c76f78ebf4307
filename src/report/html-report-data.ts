import { sql, type Kysely } from 'kysely';
import { timeIn } from '../dates.ts';
import type { Database } from '../db/database.ts';
import { findingText, type FindingText } from '../reconcile/finding-texts.ts';
import type { RunCounts } from './run-json.ts';

export type AgeBucket = '0-1' | '2-7' | '8-30' | '31+';

/** The open items after a run, by age (docs/reference.md §1.6). */
export interface OpenItemTotals {
  readonly byBucket: Record<AgeBucket, number>;
  readonly stale: number;
}

/**
 * Everything `report.html` shows, as the page reads it from its JSON block. Amounts are decimal
 * strings summed by PostgreSQL: the page groups their digits as text and turns them into numbers
 * only for the height of a bar. Times are already written in `RECON_TZ` (`tz`), with their offset.
 */
export interface HtmlReportData {
  run: {
    run_id: string;
    kind: string;
    from: string;
    to: string;
    as_of: string;
    tz: string;
    started_at: string;
    finished_at: string | null;
    counts: RunCounts | null;
  };
  previousRun: { run_id: string; from: string; to: string; finished_at: string | null } | null;
  /** One per currency of the charges: amounts are never added across currencies. */
  totals: CurrencyTotals[];
  /** `acknowledged`: how many of `count` are acknowledged. */
  byCode: { code: string; severity: string; count: number; acknowledged: number }[];
  /** The one-line Thai and English explanation of each code in `byCode` that this version knows. */
  codeTexts: Record<string, FindingText>;
  byDay: { date: string; errors: number; warnings: number; charges: number; matched: number; match_rate: string | null }[];
  openItems: OpenItemTotals;
  /** `new` is null when the run's findings carry no state (rows written before findings were followed across runs). */
  changes: { new: number | null; still_open: number | null; acknowledged: number | null; resolved: number };
  findings: { columns: readonly string[]; rows: (string | null)[][] };
}

/**
 * A currency's totals, each with its one meaning (docs/reference.md §5.3): the ledger's
 * gross (voids apart) and KBank's refunds in the currency itself; KBank's settled, MDR, VAT and
 * net in THB for the charges whose figures it reported; the charges whose fees are not reported
 * yet, with the fee schedule's estimate of them, which is never KBank's figure.
 */
export interface CurrencyTotals {
  currency: string;
  charges: number;
  gross: string;
  voided: string;
  refunded: string;
  settled: string;
  mdr: string;
  vat: string;
  net: string;
  fees_pending: number;
  mdr_estimate: string;
  vat_estimate: string;
}

/** The findings table's columns, in the order of each row. */
export const FINDING_COLUMNS = [
  'transaction_date', 'source_type', 'charge_id', 'reference_order', 'code', 'severity', 'finding_state',
  'acknowledged_by', 'ack_note', 'field', 'ledger_value', 'gateway_value', 'difference', 'message',
] as const;

/**
 * Reads one finished run back from its tables, as the report shows it, less the
 * findings' rows (`findings.rows` is empty): a run may have any number of them, and
 * {@link readFindingRows} gives them a page at a time.
 */
export async function readHtmlReportData(db: Kysely<Database>, runId: string, input: { openItems: OpenItemTotals; tz: string }): Promise<HtmlReportData> {
  const { openItems, tz } = input;
  const run = await db
    .selectFrom('recon_runs')
    .select(['run_id', 'kind', 'from_date', 'to_date', 'as_of', 'started_at', 'finished_at', 'counts'])
    .where('run_id', '=', runId)
    .executeTakeFirstOrThrow(() => new Error(`report.html: no run ${runId}`));
  const previous = await db
    .selectFrom('recon_runs')
    .select(['run_id', 'from_date', 'to_date', 'finished_at'])
    .where('status', '=', 'finished')
    .where('run_id', '<>', runId)
    .where('started_at', '<', run.started_at)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const mismatches = db.selectFrom('recon_mismatches').where('run_id', '=', runId);
  const [totals, byCode, findingsByDay, chargesByDay, states, resolved] = await Promise.all([
    readTotals(db, runId),
    mismatches
      .select([
        'code',
        'severity',
        sql<number>`count(*)::int`.as('count'),
        sql<number>`(count(*) FILTER (WHERE finding_state = 'acknowledged'))::int`.as('acknowledged'),
      ])
      .groupBy(['code', 'severity'])
      .orderBy(sql`count(*)`, 'desc')
      .orderBy('code')
      .execute(),
    mismatches
      .select([
        'transaction_date as date',
        sql<number>`(count(*) FILTER (WHERE severity = 'error'))::int`.as('errors'),
        sql<number>`(count(*) FILTER (WHERE severity = 'warning'))::int`.as('warnings'),
      ])
      .groupBy('transaction_date')
      .execute(),
    db
      .selectFrom('recon_daily_summary')
      .select([
        'transaction_date as date',
        sql<number>`sum(charges)::int`.as('charges'),
        sql<number>`sum(matched)::int`.as('matched'),
        sql<string | null>`round(100.0 * sum(matched) / nullif(sum(charges), 0), 1)::text`.as('match_rate'),
      ])
      .where('run_id', '=', runId)
      .groupBy('transaction_date')
      .execute(),
    mismatches
      .select(['finding_state', sql<number>`count(*)::int`.as('count')])
      .groupBy('finding_state')
      .execute(),
    db
      .selectFrom('findings')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('resolved_run_id', '=', runId)
      .executeTakeFirstOrThrow(),
  ]);
  const stateCount = (state: string) => (states.some((s) => s.finding_state !== null) ? (states.find((s) => s.finding_state === state)?.count ?? 0) : null);
  return {
    run: {
      run_id: run.run_id,
      kind: run.kind,
      from: run.from_date,
      to: run.to_date,
      as_of: run.as_of,
      tz,
      started_at: timeIn(tz, run.started_at),
      finished_at: run.finished_at ? timeIn(tz, run.finished_at) : null,
      counts: run.counts,
    },
    previousRun: previous
      ? { run_id: previous.run_id, from: previous.from_date, to: previous.to_date, finished_at: previous.finished_at ? timeIn(tz, previous.finished_at) : null }
      : null,
    totals,
    byCode,
    codeTexts: codeTexts(byCode.map((c) => c.code)),
    byDay: mergeDays(findingsByDay, chargesByDay),
    openItems,
    changes: { new: stateCount('new'), still_open: stateCount('still_open'), acknowledged: stateCount('acknowledged'), resolved: resolved.count },
    findings: { columns: FINDING_COLUMNS, rows: [] },
  };
}

/** The run's findings as the report's table rows ({@link FINDING_COLUMNS}), in order, a page at a time. */
export async function* readFindingRows(db: Kysely<Database>, runId: string, pageSize = 1000): AsyncGenerator<(string | null)[][]> {
  for (let after = -1; ; ) {
    const rows = await db
      .selectFrom('recon_mismatches')
      .select(['seq', ...FINDING_COLUMNS.filter((c) => c !== 'difference'), sql<string | null>`round(difference, 2)::text`.as('difference')])
      .where('run_id', '=', runId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    if (!rows.length) return;
    after = rows.at(-1)!.seq;
    yield rows.map((row) => FINDING_COLUMNS.map((column) => row[column]));
  }
}

function readTotals(db: Kysely<Database>, runId: string): Promise<CurrencyTotals[]> {
  return db
    .selectFrom('recon_daily_summary')
    .select([
      'currency',
      sql<number>`sum(charges)::int`.as('charges'),
      sql<string>`sum(gross_amount)::text`.as('gross'),
      sql<string>`sum(voided_amount)::text`.as('voided'),
      sql<string>`sum(refunded_amount)::text`.as('refunded'),
      sql<string>`sum(settled_amount)::text`.as('settled'),
      sql<string>`sum(mdr)::text`.as('mdr'),
      sql<string>`sum(vat)::text`.as('vat'),
      sql<string>`sum(net_amount)::text`.as('net'),
      sql<number>`sum(fees_pending)::int`.as('fees_pending'),
      sql<string>`sum(mdr_estimate)::text`.as('mdr_estimate'),
      sql<string>`sum(vat_estimate)::text`.as('vat_estimate'),
    ])
    .where('run_id', '=', runId)
    .groupBy('currency')
    // THB first: it is the merchant's own currency.
    .orderBy(sql`currency <> 'THB'`)
    .orderBy('currency')
    .execute();
}

/** The texts of the codes a run found; a code this version does not know (an older run's) has none. */
function codeTexts(codes: readonly string[]): Record<string, FindingText> {
  const texts: Record<string, FindingText> = {};
  for (const code of codes) {
    const text = findingText(code);
    if (text) texts[code] = text;
  }
  return texts;
}

type DayFindings = { date: string; errors: number; warnings: number };
type DayCharges = { date: string; charges: number; matched: number; match_rate: string | null };

/** A day with charges but no findings, or (a refund's orphan) findings but no charges, is still a day. */
function mergeDays(findings: DayFindings[], charges: DayCharges[]): HtmlReportData['byDay'] {
  const days = new Map<string, HtmlReportData['byDay'][number]>();
  const day = (date: string) => days.get(date) ?? days.set(date, { date, errors: 0, warnings: 0, charges: 0, matched: 0, match_rate: null }).get(date)!;
  for (const f of findings) Object.assign(day(f.date), { errors: f.errors, warnings: f.warnings });
  for (const c of charges) Object.assign(day(c.date), { charges: c.charges, matched: c.matched, match_rate: c.match_rate });
  return [...days.values()].sort((a, b) => a.date.localeCompare(b.date));
}
