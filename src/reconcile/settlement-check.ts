import type { GatewaySettlement } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import { formatMoney, isAboveZero, sameDigits, type Money } from '../money.ts';
import { compareAmount, differs, amountMismatch, unreadableFigure } from './compare.ts';
import { FEE_FIGURES, figuresReported, type ExpectedCharge } from './expected-fees.ts';
import type { Mismatch } from './mismatch.ts';

/** Settled amount, the three fees, and the gateway's own arithmetic; findings are added to `found`. */
export function checkSettlement(found: Mismatch[], input: {
  charge: LedgerEntry;
  /** What the ledger settled, parsed once by the caller: the amount, or the captured amount of a partial capture. */
  settled: Money;
  settlement: GatewaySettlement;
  expected: ExpectedCharge;
  tolerance: Money;
}): void {
  const { charge, settled, settlement, expected, tolerance } = input;
  const id = charge.entry_id;
  const unreadable = settlement.unreadable ?? {};
  compareAmount(found, 'SETTLE_AMOUNT_MISMATCH', id, 'settle_amount', settled, settlement.settleAmount, tolerance, 'settled amount', unreadable.settle_amount ?? unreadable.settlement_amount);
  if (feesNotReported(settlement)) {
    found.push({
      code: 'FEES_NOT_REPORTED',
      entryId: id,
      field: 'settlement_info',
      gatewayValue: formatMoney(settlement.settleAmount!),
      message: `the gateway settled ${formatMoney(settlement.settleAmount!)} but reports no fee figures yet (orig_amount, orig_mdr, orig_vat, orig_net_amount all zero or absent); MDR, VAT and net not checked`,
    });
    return;
  }
  if (expected.mdr) compareAmount(found, 'MDR_MISMATCH', id, 'orig_mdr', expected.mdr, settlement.origMdr, tolerance, 'MDR', unreadable.orig_mdr);
  if (expected.vat) compareAmount(found, 'VAT_MISMATCH', id, 'orig_vat', expected.vat, settlement.origVat, tolerance, 'VAT on MDR', unreadable.orig_vat);
  if (expected.net) compareAmount(found, 'NET_MISMATCH', id, 'orig_net_amount', expected.net, settlement.origNetAmount, tolerance, 'net amount', unreadable.orig_net_amount);
  // A fee figure no expected fee was compared with still belongs to the gateway's own arithmetic.
  for (const field of FEE_FIGURES) {
    const text = unreadable[field];
    if (text !== undefined && !found.some((f) => f.field === field)) {
      found.push(unreadableFigure('SETTLEMENT_INCONSISTENT', id, field, text, `the gateway's own figures cannot be checked: ${field} is`));
    }
  }
  const { origAmount, origMdr, origVat, origNetAmount } = settlement;
  if (origAmount && isAboveZero(origAmount) && origMdr && origVat && origNetAmount) {
    const implied = gatewayNet(origAmount, origMdr, origVat, expected);
    if (differs(implied, origNetAmount, tolerance)) {
      found.push({
        ...amountMismatch('SETTLEMENT_INCONSISTENT', id, 'orig_net_amount', implied, origNetAmount, 'gateway net'),
        message: `the gateway's own figures disagree: orig_amount ${origAmount.toFixed(2)} − orig_mdr ${origMdr.toFixed(2)} − orig_vat ${origVat.toFixed(2)} = ${implied.toFixed(2)}, but orig_net_amount is ${origNetAmount.toFixed(2)}`,
      });
    }
  }
}

/**
 * orig_amount − orig_mdr − orig_vat. When these are the very figures the expected net was worked
 * out from, as when the gateway charged the fees expected (the usual case), the expected net is
 * this already: the same subtraction of the same decimals (every Money is made in money.ts's one
 * decimal context), so it is not done twice.
 */
function gatewayNet(origAmount: Money, origMdr: Money, origVat: Money, expected: ExpectedCharge): Money {
  const { netBase, mdr, vat, net } = expected;
  if (net && netBase && mdr && vat && sameDigits(netBase, origAmount) && sameDigits(mdr, origMdr) && sameDigits(vat, origVat)) return net;
  return origAmount.minus(origMdr).minus(origVat);
}

/**
 * v2: money was settled but every fee figure is zero or absent, as in the guide's Refund sample
 * (§6.1.5: `settle_amount` 92.2, `orig_*` all 0.0). KBank has not reported the fees yet; saying
 * "KBank paid 0.00" three times would be false.
 */
function feesNotReported(settlement: GatewaySettlement): boolean {
  const { settleAmount } = settlement;
  return !!settleAmount && isAboveZero(settleAmount) && !figuresReported(settlement);
}
