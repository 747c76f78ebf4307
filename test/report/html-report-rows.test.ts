import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acknowledgeFindings } from '../../src/followup/acknowledge.ts';
import { FINDING_TEXTS } from '../../src/reconcile/finding-texts.ts';
import { writeHtmlReport } from '../../src/report/html-report.ts';
import { FINDING_COLUMNS, type HtmlReportData } from '../../src/report/html-report-data.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { createTestDatabase } from '../helpers/database.ts';
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
  const date = nextDate();
  // 1,200,000.00 at 2.5 %: MDR 30,000.00, VAT 2,100.00, net 1,167,900.00.
  const big = buildCharge({ key: 'fig-big', date, amount: '1200000.00' });
  // 1,000.00: MDR 25.00, VAT 1.75, net 973.25; 200.00 of it refunded.
  const refunded = buildCharge({ key: 'fig-refund', date, amount: '1000.00', refunds: ['200.00'] });
  const voided = buildCharge({ key: 'fig-void', date, amount: '300.00', voided: true });
  // Settled without figures (FEES_NOT_REPORTED): the schedule expects 250.00 × 2.5 % = 6.25, VAT 0.4375 → 0.44.
  const noFigures = buildCharge({ key: 'fig-nofig', date, amount: '250.00', zeroFigures: true });
  // Thai QR, whose inquiry carries no fees: 80.00 × 1 % = 0.80, VAT 0.056 → 0.06.
  const qr = buildCharge({ key: 'fig-qr', date, amount: '80.00', sourceType: 'qr' });
  // Booked, unknown to KBank (MISSING_AT_GATEWAY): in the gross, and KBank charged nothing.
  const missing = buildCharge({ key: 'fig-missing', date, amount: '500.00' });
  // 100.00 USD, settled as 3,400.00 THB: MDR 85.00, VAT 5.95, net 3,309.05.
  const dollars = buildCharge({ key: 'fig-usd', date, amount: '100.00', currency: 'USD' });
  dollars.gateway.settlement_info = {
    settle_amount: '100.0000', baht_amount: '3400.0000', exchange_rate: '34.0000',
    orig_amount: '3400.0000', orig_mdr: '85.0000', orig_vat: '5.9500', orig_net_amount: '3309.0500',
  };
  const charges = [big, refunded, voided, noFigures, qr, missing, dollars];
  const scenario = {
    from: date,
    ledger: charges.flatMap((c) => c.ledger),
    gateway: charges.filter((c) => c !== missing).map((c) => c.gateway),
    fees: { vat_rate: '0.07', rules: [{ source_type: 'card', rate: '0.025' }, { source_type: 'qr', rate: '0.01' }] },
    env: { RECON_TZ: 'Asia/Tokyo' },
  };

  it('one total per currency with one meaning each, the acknowledgement, the codes explained, the times in RECON_TZ', async () => {
    await runScenario(database, scenario);
    const note = 'KBank แจ้งค่าธรรมเนียมพรุ่งนี้ (ticket 4471)';
    const acked = await acknowledgeFindings(database.db, [{ charge: noFigures.gateway.id as string, code: 'FEES_NOT_REPORTED', field: '', entryId: '', note, by: 'somchai' }]);
    expect(acked).toMatchObject({ ok: true, count: 1 });
    const second = await runScenario(database, scenario);
    const data = await reportData(join(second.outcome.reportDir, 'report.html'));

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
    expect([ackedRow[column('finding_state')], ackedRow[column('acknowledged_by')], ackedRow[column('ack_note')]]).toEqual(['acknowledged', 'somchai', note]);
    const openRow = data.findings.rows.find((r) => r[column('code')] === 'MISSING_AT_GATEWAY')!;
    expect([openRow[column('finding_state')], openRow[column('acknowledged_by')], openRow[column('ack_note')]]).toEqual(['still_open', null, null]);

    // Tokyo is UTC+09:00 all year: the stored instant, nine hours on, with its offset.
    const run = await database.db.selectFrom('recon_runs').select(['started_at', 'finished_at']).where('run_id', '=', second.outcome.run.run_id).executeTakeFirstOrThrow();
    const inTokyo = (at: Date) => `${new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')} +09:00`;
    expect(data.run).toMatchObject({ tz: 'Asia/Tokyo', started_at: inTokyo(run.started_at), finished_at: inTokyo(run.finished_at!) });
  });
});
