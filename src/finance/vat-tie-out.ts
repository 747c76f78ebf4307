import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { formatMoney, money, toSatang, type Money } from '../money.ts';
import { latestFeeSchedule } from '../reconcile/fee-schedule-store.ts';
import { vatRateOn } from '../reconcile/fee-schedule.ts';

/** KBank's tax invoice for the month, as `--invoice-mdr`, `--invoice-vat`, `--invoice-no` and `--invoice-date` give it. */
export interface Invoice {
  readonly mdr: Money;
  readonly vat: Money;
  readonly number?: string | undefined;
  readonly date?: string | undefined;
}

/** How the schedule's totals compare with the invoice. */
export interface TieOut {
  /** Invoice less schedule. */
  readonly mdrDifference: Money;
  readonly vatDifference: Money;
  /** `ties`: equal to the satang; `rounding`: only VAT differs, by rounding alone; `differs`: anything else. */
  readonly outcome: 'ties' | 'rounding' | 'differs';
  readonly reason: string;
}

/** Thailand's VAT rate, when no fee schedule says otherwise. */
const THAI_VAT_RATE = money('0.07');

/**
 * Compares the schedule's MDR and VAT with the invoice's. The schedule adds VAT rounded per
 * charge, as KBank reports it; an invoice charges VAT on the month's MDR total, rounded once:
 * the two may differ by a few satang with nothing wrong. Such a difference, and only such, is
 * explained with both figures.
 */
export function tieOut(schedule: { mdr: Money; vat: Money }, invoice: Invoice, vatRate: Money): TieOut {
  const mdrDifference = invoice.mdr.minus(schedule.mdr);
  const vatDifference = invoice.vat.minus(schedule.vat);
  if (mdrDifference.isZero() && vatDifference.isZero()) {
    return { mdrDifference, vatDifference, outcome: 'ties', reason: 'ties to the invoice to the satang' };
  }
  const onTotal = toSatang(schedule.mdr.times(vatRate));
  if (mdrDifference.isZero() && invoice.vat.equals(onTotal)) {
    return {
      mdrDifference,
      vatDifference,
      outcome: 'rounding',
      reason: `rounding only: VAT on the month's MDR total (${formatMoney(schedule.mdr)} × ${vatRate.toString()} = ${formatMoney(onTotal)}, the invoice's) against the sum of VAT rounded per charge (${formatMoney(schedule.vat)})`,
    };
  }
  const parts = [
    mdrDifference.isZero() ? undefined : `MDR differs by ${formatMoney(mdrDifference)}`,
    vatDifference.isZero() ? undefined : `VAT differs by ${formatMoney(vatDifference)}`,
  ].filter(Boolean);
  return {
    mdrDifference,
    vatDifference,
    outcome: 'differs',
    reason: `${parts.join('; ')}, which rounding does not explain (VAT on the schedule's MDR total would be ${formatMoney(onTotal)})`,
  };
}

/** The VAT rate of the latest fee schedule given to a run, on `date`; else Thailand's 7 %. */
export async function vatRateFor(db: Kysely<Database>, date: string): Promise<Money> {
  const latest = await latestFeeSchedule(db);
  return (latest && vatRateOn(latest, date)) ?? THAI_VAT_RATE;
}
