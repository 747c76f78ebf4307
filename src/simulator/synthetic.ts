import { money, toSatang } from '../money.ts';

export interface SyntheticOptions {
  /** Creation date of every charge, `YYYYMMDD`; default 20250115. */
  readonly date?: string;
  /** Id prefix, so several sets can live in one simulator; default `chrg_test_sim`. */
  readonly prefix?: string;
}

/**
 * `count` settled Visa charges shaped like the guide's §6.1.2 sample, with fees consistent with a
 * 2.5 % MDR and 7 % VAT, for benchmarks and smoke runs. Every charge has a distinct amount,
 * reference order `SIM{n}` and a deterministic id.
 */
export function syntheticCharges(count: number, options: SyntheticOptions = {}): Record<string, unknown>[] {
  const date = options.date ?? '20250115';
  const prefix = options.prefix ?? 'chrg_test_sim';
  const charges: Record<string, unknown>[] = [];
  for (let n = 1; n <= count; n += 1) {
    const amount = money(100 + n).plus(money(n % 100).div(100));
    const mdr = toSatang(amount.times('0.025'));
    const vat = toSatang(mdr.times('0.07'));
    const fixed4 = (value: ReturnType<typeof money>) => Number(value.toFixed(4));
    charges.push({
      id: `${prefix}_${String(n).padStart(8, '0')}`,
      object: 'charge',
      amount: fixed4(amount),
      currency: 'THB',
      transaction_state: 'Settled',
      source: { id: `card_test_sim_${n}`, object: 'card', brand: 'visa', card_masking: '441770*****5830', issuer_bank: 'KASIKORN BANK PUBLIC COMPANY LIMITED' },
      created: `${date}${timeOfDay(n)}`,
      status: 'success',
      reference_order: `SIM${n}`,
      description: 'simulated charge',
      settlement_info: {
        settle_amount: fixed4(amount),
        baht_amount: fixed4(amount),
        exchange_rate: 1,
        orig_amount: fixed4(amount),
        orig_mdr: fixed4(mdr),
        orig_vat: fixed4(vat),
        orig_net_amount: fixed4(amount.minus(mdr).minus(vat)),
      },
      refund_info: null,
      approval_code: String(100000 + (n % 900000)),
      livemode: false,
      failure_code: null,
      failure_message: null,
    });
  }
  return charges;
}

/** `HHmmssSSS`, one second apart from 08:00:00 on, wrapping within the day. */
function timeOfDay(n: number): string {
  const seconds = (8 * 3600 + n) % 86_400;
  const pad = (v: number) => String(v).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}${pad(Math.floor(seconds / 60) % 60)}${pad(seconds % 60)}000`;
}
