import { describe, expect, it } from 'vitest';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { nextDate, runScenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();

describe('the largest amounts a ledger and the gateway may carry', () => {
  it("add up in a day's totals without overflowing: 150 charges of 999,999,999,999.99", async () => {
    const date = nextDate();
    const charges = Array.from({ length: 150 }, (_, i) => buildCharge({ key: `huge-${i}`, date, amount: '999999999999.99' }));
    const result = await runScenario(database, { from: date, ledger: charges.flatMap((c) => c.ledger), gateway: charges.map((c) => c.gateway) });
    expect(result.outcome.exitCode).toBe(0);
    expect(result.summary).toHaveLength(1);
    expect(result.summary[0]).toMatchObject({ charges: '150', matched: '150', gross_amount: '149999999999998.50', settled_amount: '149999999999998.50' });
    const stored = await database.db.selectFrom('recon_daily_summary').select('gross_amount').where('run_id', '=', result.outcome.run.run_id).executeTakeFirstOrThrow();
    expect(stored.gross_amount).toBe('149999999999998.50');
  });
});
