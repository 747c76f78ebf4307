import type { LedgerEntry } from '../ingest/ledger.table.ts';
import type { InstallmentPlan } from '../ingest/plan.table.ts';
import { formatMoney, money, type Money } from '../money.ts';
import { ledgerMoney } from './compare.ts';
import type { Mismatch } from './mismatch.ts';

/** One imported plan report: a version of its supplier's plans. */
export interface PlanVersion {
  /** The day it was imported (`YYYY-MM-DD` in RECON_TZ): from then on, its plans were known. */
  readonly importedOn: string;
  /** By `SeqNo.`. */
  readonly plans: readonly InstallmentPlan[];
}

/** The ingested plan reports: each supplier's versions, oldest first, for the suppliers imported. */
export type PlanBook = ReadonlyMap<string, readonly PlanVersion[]>;

/** A stored report version, as `planBook` needs it. */
export interface PlanReportVersion {
  readonly report_id: string;
  readonly supplier_no: string;
  readonly imported_on: string;
}

/** `reports` in import order (oldest first); each plan belongs to one of them by `report_id`. */
export function planBook(plans: Iterable<InstallmentPlan>, reports: Iterable<PlanReportVersion>): PlanBook {
  const book = new Map<string, PlanVersion[]>();
  const byReport = new Map<string, InstallmentPlan[]>();
  for (const report of reports) {
    const list: InstallmentPlan[] = [];
    byReport.set(report.report_id, list);
    const versions = book.get(report.supplier_no) ?? [];
    versions.push({ importedOn: report.imported_on, plans: list });
    book.set(report.supplier_no, versions);
  }
  for (const plan of plans) byReport.get(plan.report_id)?.push(plan);
  for (const list of byReport.values()) list.sort((a, b) => a.seq_no - b.seq_no);
  return book;
}

/**
 * docs/reference.md §3.2: the plans known on `date`, i.e. the latest version imported on or before it;
 * when every version came later (a first import, then a run over past days), the earliest one,
 * the closest there is to what was valid then.
 */
export function plansKnownOn(versions: readonly PlanVersion[], date: string): readonly InstallmentPlan[] {
  const known = versions.filter((v) => v.importedOn <= date);
  return (known.length ? known[known.length - 1] : versions[0])?.plans ?? [];
}

/** Plans are never changed once loaded: each plan's bounds are parsed once, not per charge. */
const priceRanges = new WeakMap<InstallmentPlan, { min: Money; max: Money }>();

function priceRange(plan: InstallmentPlan): { min: Money; max: Money } {
  let range = priceRanges.get(plan);
  if (range === undefined) {
    range = { min: money(plan.min_price), max: money(plan.max_price) };
    priceRanges.set(plan, range);
  }
  return range;
}

/** Codes compare as numbers where the report has numbers (`3` = `003`), as text otherwise. */
function sameNumber(a: string | number | null, b: number): boolean {
  if (a === null || a === '') return false;
  const n = Number(a);
  return Number.isInteger(n) && n === b;
}

function sameIpanMode(a: string, b: string): boolean {
  return a.trim().padStart(2, '0') === b.trim().padStart(2, '0');
}

/**
 * docs/reference.md §4.18, the five installment checks, for charge rows with a `plan_id` whose supplier's
 * plan report was ingested (a supplier we know nothing of is not a finding). Findings are added
 * to `found`.
 */
export function checkInstallment(found: Mismatch[], charge: LedgerEntry, book: PlanBook): void {
  if (!charge.plan_id || !charge.supplier_no) return;
  const versions = book.get(charge.supplier_no);
  if (!versions) return;
  const plans = plansKnownOn(versions, charge.transaction_date);
  const id = charge.entry_id;
  const described = `plan ${charge.plan_id}, model ${charge.model_no ?? '-'}, product type ${charge.product_type ?? '-'} of supplier ${charge.supplier_no}`;
  const known = plans.filter(
    (p) => sameNumber(charge.plan_id, p.plan_id) && p.model_no === (charge.model_no ?? '') && sameNumber(charge.product_type, p.product_type),
  );
  if (known.length === 0) {
    found.push({ code: 'INSTALLMENT_PLAN_UNKNOWN', entryId: id, field: 'plan_id', ledgerValue: charge.plan_id, message: `${described} is not in the supplier's Installment Plan Report` });
    return;
  }
  const date = charge.transaction_date;
  const active = known.filter((p) => p.valid_from <= date && date <= p.valid_to);
  if (active.length === 0) {
    const periods = known.map((p) => `${p.valid_from}..${p.valid_to}`).join(', ');
    found.push({ code: 'INSTALLMENT_PLAN_INACTIVE', entryId: id, field: 'transaction_date', ledgerValue: date, gatewayValue: periods, message: `${described} is not valid on ${date} (valid ${periods})` });
    return;
  }
  const plan = active.find((p) => p.payment_term === charge.term);
  if (!plan) {
    const terms = [...new Set(active.map((p) => p.payment_term))].join(', ');
    found.push({ code: 'INSTALLMENT_TERM_INVALID', entryId: id, field: 'term', ledgerValue: String(charge.term ?? ''), gatewayValue: terms, message: `${described} offers terms ${terms}, not ${charge.term ?? 'none'}` });
    return;
  }
  const amount = ledgerMoney(charge.amount)!;
  const { min, max } = priceRange(plan);
  if (amount.lessThan(min) || amount.greaterThan(max)) {
    found.push({
      code: 'INSTALLMENT_PRICE_OUT_OF_RANGE',
      entryId: id,
      field: 'amount',
      ledgerValue: formatMoney(amount),
      gatewayValue: `${formatMoney(min)}..${formatMoney(max)}`,
      message: `amount ${formatMoney(amount)} is outside the plan's price range ${formatMoney(min)}..${formatMoney(max)}`,
    });
  }
  if (charge.ipan_mode && !sameIpanMode(charge.ipan_mode, plan.ipan_mode)) {
    found.push({
      code: 'IPAN_MODE_MISMATCH',
      entryId: id,
      field: 'ipan_mode',
      ledgerValue: charge.ipan_mode,
      gatewayValue: plan.ipan_mode,
      message: `the ledger's ipan mode ${charge.ipan_mode} differs from the plan's ${plan.ipan_mode}`,
    });
  }
}
