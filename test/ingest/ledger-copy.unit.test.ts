import { describe, expect, it } from 'vitest';
import { LEDGER_FIELDS } from '../../src/ingest/ledger-columns.ts';
import type { LedgerEntryInput } from '../../src/ingest/ledger-row.ts';
import { copyLine } from '../../src/ingest/ledger-copy.ts';

const entry: LedgerEntryInput = {
  entry_id: 'E1', entry_type: 'charge', reference_order: 'ORD-1', charge_id: null, order_id: null,
  transaction_date: '2024-05-01', entry_date: '2024-05-01', source_type: 'card', currency: 'THB', amount: '10.00',
  mdr: null, vat: null, net_amount: null, refund_id: null, mid: null, plan_id: null, ipan_mode: null, term: 3,
  supplier_no: null, model_no: null, product_type: null, convfee_amount: null, convfee_vat: null, captured_amount: null,
};

describe('copyLine', () => {
  it('writes the line number, then every field in LEDGER_FIELDS order, NULL as \\N', () => {
    expect(copyLine(entry, 7)).toMatch(/^7\tE1\tcharge\tORD-1\t\\N\t\\N\t2024-05-01\t2024-05-01\tcard\tTHB\t10\.00\t(\\N\t){7}3(\t\\N){6}\n$/);
    const filled = Object.fromEntries(LEDGER_FIELDS.map((f, i) => [f, f === 'term' ? i : `v${i}`])) as unknown as LedgerEntryInput;
    expect(copyLine(filled, 3).trimEnd().split('\t')).toEqual(['3', ...LEDGER_FIELDS.map((f, i) => (f === 'term' ? String(i) : `v${i}`))]);
  });

  it('escapes backslashes, tabs and line breaks so a value cannot break the COPY line', () => {
    const tricky = { ...entry, reference_order: 'a\\b\tc\nd\re' };
    expect(copyLine(tricky, 1)).toContain('\ta\\\\b\\tc\\nd\\re\t');
  });
});
