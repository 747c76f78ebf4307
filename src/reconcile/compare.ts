import { formatMoney, money, sameAmount, sameDigits, toSatang, type Money } from '../money.ts';
import type { Mismatch, MismatchCode } from './mismatch.ts';

/**
 * Values compare exactly after rounding both sides to 2 decimals; `tolerance` widens that
 * (docs/reference.md §4.5).
 */
export function differs(ledger: Money, gateway: Money, tolerance: Money): boolean {
  // Without a tolerance (the default) "more than zero apart" is "not equal", which needs no new
  // Money; amounts written alike, as matching amounts nearly always are, are alike rounded too.
  if (tolerance.isZero()) return !sameDigits(gateway, ledger) && !sameAmount(toSatang(gateway), toSatang(ledger));
  return toSatang(gateway).minus(toSatang(ledger)).abs().greaterThan(tolerance);
}

/** A mismatch about two amounts, with the difference gateway minus ledger. */
export function amountMismatch(
  code: MismatchCode,
  entryId: string | null,
  field: string,
  ledger: Money,
  gateway: Money,
  what: string,
): Mismatch {
  const difference = toSatang(gateway).minus(toSatang(ledger));
  return {
    code,
    entryId,
    field,
    ledgerValue: formatMoney(ledger),
    gatewayValue: formatMoney(gateway),
    difference,
    message: `${what}: ledger ${formatMoney(ledger)}, gateway ${formatMoney(gateway)}`,
  };
}

/**
 * Checks one amount, adding the mismatch to `found` when they differ. The checks add to one list
 * rather than each returning its own: most amounts match, and a list made and spread for each
 * would be work for nothing, once per amount of every charge. A gateway figure that was sent but is
 * not a number (`unreadable`, the text received) is a mismatch too, never a silent match.
 */
export function compareAmount(
  found: Mismatch[],
  code: MismatchCode,
  entryId: string | null,
  field: string,
  ledger: Money,
  gateway: Money | null,
  tolerance: Money,
  what: string,
  unreadable?: string,
): void {
  if (gateway !== null) {
    if (differs(ledger, gateway, tolerance)) found.push(amountMismatch(code, entryId, field, ledger, gateway, what));
  } else if (unreadable !== undefined) {
    found.push(unreadableFigure(code, entryId, field, unreadable, `${what}: ledger ${formatMoney(ledger)}, gateway`, formatMoney(ledger)));
  }
}

/** A finding about a gateway figure that is not a number: its gateway value is the text received. */
export function unreadableFigure(code: MismatchCode, entryId: string | null, field: string, text: string, what: string, ledgerValue?: string): Mismatch {
  return {
    code,
    entryId,
    field,
    ...(ledgerValue === undefined ? {} : { ledgerValue }),
    gatewayValue: text,
    message: `${what} ${JSON.stringify(text)}, which is not a number`,
  };
}

/** Ledger numeric text (from PostgreSQL) to Money; `null` stays `null`. */
export function ledgerMoney(value: string | null): Money | null {
  return value === null ? null : money(value);
}
