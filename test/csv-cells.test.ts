import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { neutraliseFormula } from '../src/csv-cells.ts';
import { buildCharge } from '../src/sample/charge-builder.ts';
import { createTestDatabase } from './helpers/database.ts';
import { nextDate, runScenario } from './helpers/scenario.ts';

const database = await createTestDatabase();

describe('neutraliseFormula', () => {
  it('guards text a spreadsheet would evaluate and leaves plain numbers alone', () => {
    expect(['=1+1', '+1', '-1+2', '@SUM(1)', '\t=1', '\r=1', 'ORD-1', '-1.00', '12', '-', '1e5', '-1.'].map(neutraliseFormula)).toEqual([
      "'=1+1", "'+1", "'-1+2", "'@SUM(1)", "'\t=1", "'\r=1", 'ORD-1', '-1.00', '12', "'-", '1e5', "'-1.",
    ]);
  });
});

describe('the CSVs a person opens', () => {
  it('are UTF-8 with a BOM and carry formula-like ledger text guarded, amounts unguarded', async () => {
    const date = nextDate();
    const references = ['=HYPERLINK("http://x","y")', '+1', '-1+2', '@SUM(1)'];
    const charges = references.map((reference, i) => {
      const charge = buildCharge({ key: `formula-${i}`, date, amount: '100.00' });
      charge.ledger[0]!.reference_order = reference;
      charge.ledger[0]!.amount = '101.00'; // gateway minus ledger: -1.00
      charge.gateway.reference_order = reference;
      return charge;
    });
    const rejectedRow = { entry_id: '=1+1', entry_type: 'charge', transaction_date: date, amount: '@SUM(1)', source_type: 'card', currency: 'THB' };
    const result = await runScenario(database, { from: date, ledger: [...charges.flatMap((c) => c.ledger), rejectedRow], gateway: charges.map((c) => c.gateway) });

    for (const name of ['mismatches.csv', 'summary.csv', 'rejected.csv']) {
      const bytes = await readFile(join(result.outcome.reportDir, name));
      expect([...bytes.subarray(0, 3)], name).toEqual([0xef, 0xbb, 0xbf]);
    }
    const amountRows = result.mismatches.filter((m) => m.code === 'AMOUNT_MISMATCH' || m.field === 'amount');
    expect(amountRows.map((m) => m.reference_order).sort()).toEqual(references.map((r) => `'${r}`).sort());
    for (const row of amountRows) {
      expect(row.difference).toBe('-1.00');
      expect(row.ledger_value).toBe('101.00');
    }
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]!.entry_id).toBe(`'${rejectedRow.entry_id}`);
    expect(result.rejected[0]!.raw!.startsWith(`'${rejectedRow.entry_id}`)).toBe(true);
    expect(result.rejected[0]!.line).toBe('6');
  });
});
