import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reconcileCharge } from '../../src/reconcile/reconcile-charge.ts';
import { clearRunWork } from '../../src/run/ingest-cases.ts';
import { moveDraftResults, reconcileStage } from '../../src/run/reconcile.ts';
import { startRun } from '../../src/run/run-record.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { sampleRun } from '../helpers/sample-cases.ts';

const { db } = await createTestDatabase();

describe('the reconcile stage', () => {
  it('drafts each result as its answer comes, and the final move numbers the findings in case order, whatever order the answers came in', async () => {
    const run = sampleRun({ from: '2026-04-01', days: 2, chargesPerDay: 40, defectRate: 0.6, seed: 31, asOf: '2026-04-03' });
    const runId = randomUUID();
    await startRun(db, { runId, kind: 'run', from: '2026-04-01', to: '2026-04-02', asOf: '2026-04-03' });
    await clearRunWork(db);
    const stage = reconcileStage(db, runId, run.context);
    // The answers come last case first.
    for (let i = run.cases.length - 1; i >= 0; i--) await stage.add({ no: i + 1, chargeCase: run.cases[i]! }, run.answers[i]!);
    await stage.flush();
    await stage.close();
    expect(stage.tally.charges).toBe(run.cases.length);
    expect(await db.selectFrom('run_draft_charges').select('charge_key').execute()).toHaveLength(run.cases.length);

    await db.transaction().execute((trx) => moveDraftResults(trx));
    // The same rules on the same cases, one after the other, in case order.
    const expected = run.cases.flatMap((c, i) => reconcileCharge(c, run.answers[i]!, run.context).mismatches.map((m) => m.code));
    expect(expected.length).toBeGreaterThan(20);
    const findings = await db.selectFrom('recon_mismatches').select(['seq', 'code']).where('run_id', '=', runId).orderBy('seq').execute();
    expect(findings.map((f) => f.code)).toEqual(expected);
    expect(findings.map((f) => f.seq)).toEqual(expected.map((_, i) => i));
    expect(await db.selectFrom('recon_charge_results').select('charge_key').where('run_id', '=', runId).execute()).toHaveLength(run.cases.length);
  });
});
