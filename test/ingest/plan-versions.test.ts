import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestPlanReports } from '../../src/ingest/plan-ingest.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { planReportCsv, planReportFileName, type PlanRow } from '../../src/sample/sample-files.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { runScenario } from '../helpers/scenario.ts';
import { capturingLogger } from './helpers.ts';

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-plan-versions-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const SUPPLIER = '20001';
const plan = (over: Partial<PlanRow>): PlanRow => ({
  'SeqNo.': '1', PromotionName: 'ผ่อน 0% นาน 10 เดือน', ValidFrom: '01/01/2026', ValidTo: '31/12/2026', IPanMode: '03',
  ProductName: 'ALL PRODUCT', 'SupplierNo.': SUPPLIER, ProductType: '3', 'ModelNo.': '999999', PlanID: '999',
  ModelName: 'Galaxy Z Flip3 5G', MinPrice: '3000.00', MaxPrice: '999999.00', PaymentTerm: '10', CardType: 'C', ...over,
});

async function importReport(name: string, rows: PlanRow[], now: Date): Promise<void> {
  const file = join(dir, name, planReportFileName(SUPPLIER, '2026-01-01', '2026-12-31'));
  await mkdir(join(dir, name));
  await writeFile(file, planReportCsv(rows));
  await ingestPlanReports(database.db, [file], { logger: capturingLogger().logger, now });
}

describe('plan report versions (docs/reference.md §3.2)', () => {
  it('judges each charge by the plans known on its date: old plan valid before the second import, gone after', async () => {
    // Version 1 (imported 10 Jan) offers plan 999; version 2 (imported 10 Feb, 01:00 in Bangkok,
    // which is still 9 Feb in UTC) drops it for plan 555.
    await importReport('v1', [plan({})], new Date('2026-01-10T03:00:00Z'));
    await importReport('v2', [plan({ PlanID: '555', ModelName: 'Galaxy S26' })], new Date('2026-02-09T18:00:00Z'));

    const installment = { planId: '999', ipanMode: '03', term: 10, supplierNo: SUPPLIER, modelNo: '999999', productType: '003' };
    const dates = { beforeAny: '2026-01-05', between: '2026-01-20', dayBefore: '2026-02-09', importDay: '2026-02-10', after: '2026-02-20' };
    const charges = Object.entries(dates).map(([key, date]) => buildCharge({ key, date, amount: '12000.00', installment }));
    const result = await runScenario(database, {
      from: dates.beforeAny, to: dates.after, asOf: '2026-03-01', fees: null,
      ledger: charges.flatMap((c) => c.ledger), gateway: charges.map((c) => c.gateway),
    });

    const findings = result.mismatches.map((m) => [m.transaction_date, m.code]);
    // Before any import: the earliest version; then the latest imported on or before the date.
    expect(findings).toEqual([
      [dates.importDay, 'INSTALLMENT_PLAN_UNKNOWN'],
      [dates.after, 'INSTALLMENT_PLAN_UNKNOWN'],
    ]);
    expect(result.outcome.run.counts).toMatchObject({ charges: 5, matched: 3, mismatched: 2 });
  });
});
