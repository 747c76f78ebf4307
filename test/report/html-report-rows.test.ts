import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/report/html-report.ts';
import { FINDING_COLUMNS } from '../../src/report/html-report-data.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { nextDate, runScenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();

/** The JSON block report.html's script reads. */
const reportData = async (file: string) =>
  JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(await readFile(file, 'utf8'))![1]!) as { findings: { columns: string[]; rows: (string | null)[][] } };

describe("report.html's findings, written a page of rows at a time", () => {
  it('are every finding of the run in order, whatever the page size, and the page stays one JSON value', async () => {
    const date = nextDate();
    // 23 charges the gateway does not know: one MISSING_AT_GATEWAY each.
    const charges = Array.from({ length: 30 }, (_, i) => buildCharge({ key: `rows-${i}`, date, amount: '100.00' }));
    const result = await runScenario(database, { from: date, ledger: charges.flatMap((c) => c.ledger), gateway: charges.slice(23).map((c) => c.gateway) });
    const runId = result.outcome.run.run_id;
    const asWritten = await reportData(join(result.outcome.reportDir, 'report.html'));
    expect(asWritten.findings.columns).toEqual([...FINDING_COLUMNS]);
    expect(asWritten.findings.rows.map((r) => r[FINDING_COLUMNS.indexOf('charge_id')])).toEqual(result.mismatches.map((m) => m.charge_id));
    // At least the 23 charges the gateway does not know (more only if a busy machine made a known one fail).
    expect(asWritten.findings.rows.length).toBeGreaterThanOrEqual(23);

    for (const pageSize of [1, 7, 23, 24]) {
      const file = join(result.outcome.reportDir, `report-${pageSize}.html`);
      await writeHtmlReport(database.db, runId, file, { openItems: { byBucket: { '0-1': 0, '2-7': 0, '8-30': 0, '31+': 0 }, stale: 0 }, pageSize });
      expect((await reportData(file)).findings.rows).toEqual(asWritten.findings.rows);
    }
  });
});
