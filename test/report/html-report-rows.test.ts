import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINDING_TEXTS } from '../../src/reconcile/finding-texts.ts';
import { writeHtmlReport } from '../../src/report/html-report.ts';
import { FINDING_COLUMNS, type HtmlReportData } from '../../src/report/html-report-data.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { HAND_WORKED_ACK, handWorkedReport } from '../helpers/hand-worked-report.ts';
import { nextDate, runScenario } from '../helpers/scenario.ts';

const database = await createTestDatabase();

/** The JSON block report.html's script reads. */
const reportData = async (file: string) =>
  JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(await readFile(file, 'utf8'))![1]!) as HtmlReportData;

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
      await writeHtmlReport(database.db, runId, file, { openItems: { byBucket: { '0-1': 0, '2-7': 0, '8-30': 0, '31+': 0 }, stale: 0 }, tz: 'Asia/Bangkok', pageSize });
      expect((await reportData(file)).findings.rows).toEqual(asWritten.findings.rows);
    }
  });
});

describe("report.html's figures of a small run, worked out by hand", () => {
  it('one total per currency with one meaning each, the acknowledgement, the codes explained, the times in RECON_TZ', async () => {
    const small = await handWorkedReport(database, { date: nextDate(), tz: 'Asia/Tokyo' });
    const data = await reportData(small.file);

    expect(data.totals).toEqual([
      {
        currency: 'THB',
        // big, refunded, voided, noFigures, qr, missing.
        charges: 6,
        // 1,200,000.00 + 1,000.00 + 250.00 + 80.00 + 500.00; the voided 300.00 apart.
        gross: '1201830.00',
        voided: '300.00',
        refunded: '200.00',
        // KBank's figures of big and refunded only: 1,200,000.00 + 1,000.00; 30,000.00 + 25.00;
        // 2,100.00 + 1.75; 1,167,900.00 + 973.25.
        settled: '1201000.00',
        mdr: '30025.00',
        vat: '2101.75',
        net: '1168873.25',
        // noFigures and qr: 6.25 + 0.80, 0.44 + 0.06.
        fees_pending: 2,
        mdr_estimate: '7.05',
        vat_estimate: '0.50',
      },
      {
        currency: 'USD', charges: 1, gross: '100.00', voided: '0.00', refunded: '0.00',
        settled: '3400.00', mdr: '85.00', vat: '5.95', net: '3309.05', fees_pending: 0, mdr_estimate: '0.00', vat_estimate: '0.00',
      },
    ]);

    expect(data.byCode.sort((a, b) => a.code.localeCompare(b.code))).toEqual([
      { code: 'FEES_NOT_REPORTED', severity: 'warning', count: 1, acknowledged: 1 },
      { code: 'MISSING_AT_GATEWAY', severity: 'error', count: 1, acknowledged: 0 },
    ]);
    expect(data.codeTexts).toEqual({ FEES_NOT_REPORTED: FINDING_TEXTS.FEES_NOT_REPORTED, MISSING_AT_GATEWAY: FINDING_TEXTS.MISSING_AT_GATEWAY });
    const column = (name: (typeof FINDING_COLUMNS)[number]) => FINDING_COLUMNS.indexOf(name);
    const ackedRow = data.findings.rows.find((r) => r[column('code')] === 'FEES_NOT_REPORTED')!;
    expect([ackedRow[column('finding_state')], ackedRow[column('acknowledged_by')], ackedRow[column('ack_note')]]).toEqual(['acknowledged', HAND_WORKED_ACK.by, HAND_WORKED_ACK.note]);
    const openRow = data.findings.rows.find((r) => r[column('code')] === 'MISSING_AT_GATEWAY')!;
    expect([openRow[column('finding_state')], openRow[column('acknowledged_by')], openRow[column('ack_note')]]).toEqual(['still_open', null, null]);

    // Tokyo is UTC+09:00 all year: the stored instant, nine hours on, with its offset.
    const run = await database.db.selectFrom('recon_runs').select(['started_at', 'finished_at']).where('run_id', '=', small.runId).executeTakeFirstOrThrow();
    const inTokyo = (at: Date) => `${new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')} +09:00`;
    expect(data.run).toMatchObject({ tz: 'Asia/Tokyo', started_at: inTokyo(run.started_at), finished_at: inTokyo(run.finished_at!) });
  });
});
