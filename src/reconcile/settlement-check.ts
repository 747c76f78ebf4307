import type { GatewayCharge, GatewaySettlement } from '../gateway/charge.ts';
import type { LedgerEntry } from '../ingest/ledger.table.ts';
import type { Money } from '../money.ts';
import { compareAmount, differs, amountMismatch, ledgerMoney } from './compare.ts';
import { feesFor, findRule, type FeeSchedule } from './fee-schedule.ts';
import type { Mismatch } from './mismatch.ts';

/** Each fee as the ledger or the fee schedule expects it; `null` where neither says (check skipped). */
export interface ExpectedCharge {
  mdr: Money | null;
  vat: Money | null;
  net: Money | null;
}

/**
 * Contract §4, expected fees: each of `mdr`, `vat`, `net_amount` from the ledger row when given,
 * otherwise from the first matching fee rule on the ledger amount (for a non-THB charge, on the
 * gateway's `settlement_info.baht_amount`, since fees are charged in baht).
 */
export function expectedFees(charge: LedgerEntry, gateway: GatewayCharge, schedule: FeeSchedule | undefined): ExpectedCharge {
  const fromLedger = { mdr: ledgerMoney(charge.mdr), vat: ledgerMoney(charge.vat), net: ledgerMoney(charge.net_amount) };
  if (fromLedger.mdr && fromLedger.vat && fromLedger.net) return fromLedger;
  const rule =
    schedule &&
    findRule(schedule, {
      sourceType: charge.source_type,
      brand: gateway.source?.brand,
      mid: charge.mid,
      currency: charge.currency,
      ipanMode: charge.ipan_mode,
      term: charge.term,
    });
  const base = charge.currency.toUpperCase() === 'THB' ? ledgerMoney(charge.amount) : (gateway.settlement?.bahtAmount ?? null);
  if (!rule || !base || !schedule) return fromLedger;
  const computed = feesFor(base, rule.rate, schedule.vatRate);
  return {
    mdr: fromLedger.mdr ?? computed.mdr,
    vat: fromLedger.vat ?? computed.vat,
    net: fromLedger.net ?? computed.net,
  };
}

/** Settled amount, the three fees, and the gateway's own arithmetic. */
export function checkSettlement(input: {
  charge: LedgerEntry;
  settlement: GatewaySettlement;
  expected: ExpectedCharge;
  tolerance: Money;
}): Mismatch[] {
  const { charge, settlement, expected, tolerance } = input;
  const id = charge.entry_id;
  const amount = ledgerMoney(charge.amount)!;
  const found = [
    ...compareAmount('SETTLE_AMOUNT_MISMATCH', id, 'settle_amount', amount, settlement.settleAmount, tolerance, 'settled amount'),
    ...(expected.mdr ? compareAmount('MDR_MISMATCH', id, 'orig_mdr', expected.mdr, settlement.origMdr, tolerance, 'MDR') : []),
    ...(expected.vat ? compareAmount('VAT_MISMATCH', id, 'orig_vat', expected.vat, settlement.origVat, tolerance, 'VAT on MDR') : []),
    ...(expected.net ? compareAmount('NET_MISMATCH', id, 'orig_net_amount', expected.net, settlement.origNetAmount, tolerance, 'net amount') : []),
  ];
  const { origAmount, origMdr, origVat, origNetAmount } = settlement;
  if (origAmount?.greaterThan(0) && origMdr && origVat && origNetAmount) {
    const implied = origAmount.minus(origMdr).minus(origVat);
    if (differs(implied, origNetAmount, tolerance)) {
      found.push({
        ...amountMismatch('SETTLEMENT_INCONSISTENT', id, 'orig_net_amount', implied, origNetAmount, 'gateway net'),
        message: `the gateway's own figures disagree: orig_amount ${origAmount.toFixed(2)} − orig_mdr ${origMdr.toFixed(2)} − orig_vat ${origVat.toFixed(2)} = ${implied.toFixed(2)}, but orig_net_amount is ${origNetAmount.toFixed(2)}`,
      });
    }
  }
  return found;
}
