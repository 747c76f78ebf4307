import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney, money, sum } from '../../src/money.ts';
import { FINDING_TEXTS } from '../../src/reconcile/finding-texts.ts';
import type { MismatchCode } from '../../src/reconcile/mismatch.ts';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import { FINDING_COLUMNS } from '../../src/report/html-report-data.ts';
import { chartData, chartPixels, filterFindings, horizontalOverflow, launchChromium, openReport, watchPage } from '../helpers/browser.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { HAND_WORKED_ACK, handWorkedReport } from '../helpers/hand-worked-report.ts';
import { SYNTHETIC_ACK_BY, SYNTHETIC_CODES, SYNTHETIC_STATES, syntheticAckNote, syntheticCount, syntheticReportData } from '../helpers/html-report-fixture.ts';

type Row = Record<string, string>;
const PAGE_SIZE = 100;

const dir = await mkdtemp(join(tmpdir(), 'kpgw-html-'));
const database = await createTestDatabase();
/** The browser, or why there is none: each test then fails with it (a hook that threw would mark them skipped). */
let browser: Browser | Error;
let page: Page;
let problems: string[];

beforeAll(async () => {
  // The server of the demo's embedded PostgreSQL runs as the postgres user when we are root.
  await chmod(dir, 0o755);
  browser = await launchChromium().catch((error: Error) => error);
});
afterAll(async () => {
  if (!(browser instanceof Error)) await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

function requireBrowser(): void {
  if (browser instanceof Error) throw browser;
}

/** Opens `file` in a new page, when there is a browser; a phone's screen is 400 px wide. */
async function openInNewPage(file: string, width = 1400): Promise<void> {
  if (browser instanceof Error) return;
  page = await browser.newPage({ viewport: { width, height: width < 600 ? 800 : 1000 } });
  problems = watchPage(page);
  await openReport(page, file);
}

/** The text of each cell of the findings table's rows on screen, by column name. */
async function shownFindings(): Promise<Record<string, string>[]> {
  const header = await page.$$eval('#findings thead th', (cells) => cells.map((c) => c.textContent ?? ''));
  const rows = await page.$$eval('#findings tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
  return rows.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]!])));
}

/** The figures table of one currency: `data-figure` → [label, value]. */
async function figures(currency: string): Promise<Map<string, [string, string]>> {
  const rows = await page.$$eval(`#waterfalls [data-currency="${currency}"] tr[data-figure]`, (trs) =>
    trs.map((tr): [string, [string, string]] => [(tr as unknown as { dataset: Record<string, string> }).dataset.figure!, [tr.children[0]!.textContent ?? '', tr.children[1]?.textContent ?? '']]));
  return new Map(rows);
}

/** At 400 px: nothing sticks out, the charts fit, the filter still works. */
async function expectUsableAtPhoneWidth(filter: { code: string; count: number }): Promise<void> {
  const layout = await horizontalOverflow(page);
  expect(layout.width).toBe(400);
  expect(layout.outside).toEqual([]);
  expect(layout.scrollWidth).toBeLessThanOrEqual(400);
  for (const chart of await chartPixels(page)) expect(chart.painted, `${chart.id} is blank`).toBeGreaterThan(1000);
  const canvasRights = await page.$$eval('canvas.chart', (canvases) => canvases.map((c) => c.getBoundingClientRect().right));
  for (const right of canvasRights) expect(right).toBeLessThanOrEqual(400);
  expect(await filterFindings(page, { code: filter.code })).toBe(filter.count);
  expect((await shownFindings()).map((r) => r.code)).toEqual(Array(Math.min(filter.count, PAGE_SIZE)).fill(filter.code));
  expect((await horizontalOverflow(page)).outside).toEqual([]);
  expect(problems).toEqual([]);
}

/** `1,234.50`-style grouping of a decimal string, as the page shows it. */
const grouped = (text: string) => text.replace(/^(-?)(\d+)/, (_, sign: string, digits: string) => sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ','));

describe("the demo's report.html in Chromium, opened from disk", () => {
  let reportFile: string;
  let mismatches: Row[];
  let summary: Row[];

  beforeAll(async () => {
    const result = await runCli(['demo', '--per-day', '200'], { cwd: dir, env: { DATABASE_URL: undefined, LOG_LEVEL: 'warn' } });
    expect(result.code, result.stderr.slice(-1000)).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    // The demo's last line is where the page is.
    reportFile = lines.at(-1)!.match(/^report: (.+report\.html)$/)![1]!;
    const read = async (name: string) => parse(await readFile(join(reportFile, '..', name)), { columns: true, bom: true }) as Row[];
    mismatches = await read('mismatches.csv');
    summary = await read('summary.csv');
    await openInNewPage(reportFile);
  });
  afterAll(() => page?.close());

  it('draws every chart, with no console error and no request but the file itself', async () => {
    requireBrowser();
    const charts = await chartPixels(page);
    expect(charts.map((c) => c.id).sort()).toEqual(['chart-codes', 'chart-days', 'chart-open', 'chart-waterfall-THB']);
    for (const chart of charts) {
      expect(chart.chart, chart.id).toBe(true);
      expect(chart.painted, `${chart.id} is blank`).toBeGreaterThan(1000);
    }
    expect(problems).toEqual([]);
  });

  it("shows the run's THB totals to the satang, as summary.csv adds them up", async () => {
    requireBrowser();
    const thb = summary.filter((r) => r.currency === 'THB');
    const total = (column: string) => formatMoney(sum(thb.map((r) => money(r[column]!))));
    const shown = await figures('THB');
    expect(shown.get('gross')?.[1]).toBe(`THB ${grouped(total('gross_amount'))}`);
    expect(shown.get('voided')?.[1]).toBe(`THB ${grouped(total('voided_amount'))}`);
    expect(shown.get('settled')?.[1]).toBe(`THB ${grouped(total('settled_amount'))}`);
    expect(shown.get('mdr')?.[1]).toBe(`THB ${grouped(total('mdr'))}`);
    expect(shown.get('vat')?.[1]).toBe(`THB ${grouped(total('vat'))}`);
    expect(shown.get('net')?.[1]).toBe(`THB ${grouped(total('net_amount'))}`);
    expect(shown.get('refunded')?.[1]).toBe(`THB ${grouped(total('refunded_amount'))}`);
    expect(shown.get('fees_pending')?.[1]).toBe(`${thb.reduce((n, r) => n + Number(r.fees_pending), 0)} รายการ charges`);
  });

  it("filters the findings by code to as many rows as mismatches.csv has of it, and finds a charge by its id", async () => {
    requireBrowser();
    expect(await filterFindings(page, {})).toBe(mismatches.length);
    const byCode = new Map<string, number>();
    for (const m of mismatches) byCode.set(m.code!, (byCode.get(m.code!) ?? 0) + 1);
    const [code, count] = [...byCode].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;
    expect(await filterFindings(page, { code })).toBe(count);
    expect((await shownFindings()).map((r) => r.code)).toEqual(Array(Math.min(count, PAGE_SIZE)).fill(code));

    const chargeId = mismatches.find((m) => m.charge_id)!.charge_id!;
    const expected = mismatches.filter((m) => `${m.charge_id}\u0000${m.reference_order}`.toLowerCase().includes(chargeId.toLowerCase())).length;
    expect(await filterFindings(page, { search: chargeId })).toBe(expected);
    expect((await shownFindings()).map((r) => r.charge_id)).toContain(chargeId);
    expect(problems).toEqual([]);
  });

  it('looks right: a screenshot of the whole page, Thai headings included', async () => {
    requireBrowser();
    await filterFindings(page, {});
    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`report.html screenshot: ${shot}`);
    // Kept for a person (or CI's artefacts) when asked: the temp folder goes with the test.
    if (process.env.HTML_REPORT_SCREENSHOT) await copyFile(shot, process.env.HTML_REPORT_SCREENSHOT);
    expect(await page.textContent('h1')).toContain('รายงานกระทบยอด');
    expect(await page.getAttribute('html', 'lang')).toBe('th');
  });
});

describe('report.html with 50,000 findings', () => {
  const COUNT = 50_000;
  // A reference that would end the data's script element, open a comment or break a line of script if it were not escaped.
  const HOSTILE = '</script><script>document.title="x"</script><!-- \u2028\u2029 <b>ตัวหนา</b> &amp;';

  beforeAll(async () => {
    const file = join(dir, 'large.html');
    const data = syntheticReportData(COUNT);
    data.findings.rows[7]![FINDING_COLUMNS.indexOf('reference_order')] = HOSTILE;
    await writeFile(file, renderHtmlReport(data));
    await openInNewPage(file);
  });
  afterAll(() => page?.close());

  // How fast is bench:html's to say; here, that the answers are right and only a page is drawn.
  it('draws one page of rows and filters on code, state, date and search', async () => {
    requireBrowser();
    expect(await filterFindings(page, {})).toBe(COUNT);
    expect(await page.locator('#findings tbody tr').count()).toBe(PAGE_SIZE);
    expect(await filterFindings(page, { code: SYNTHETIC_CODES[1], state: SYNTHETIC_STATES[2] })).toBe(syntheticCount(COUNT, 1, 2));
    // 2026-05-02 is row i % 3 === 1; state index 1 likewise: together the rows i % 3 === 1.
    expect(await filterFindings(page, { state: SYNTHETIC_STATES[1], date: '2026-05-02' })).toBe(Math.floor((COUNT - 1 - 1) / 3) + 1);
    expect(await filterFindings(page, { search: 'CHRG_TEST_49999' })).toBe(1);
    expect(await filterFindings(page, { search: 'ใบสั่งซื้อ-4999' })).toBe(11);
    expect(await page.isDisabled('#page-next')).toBe(true);
    expect(await filterFindings(page, { search: '</script>' })).toBe(1);
    expect((await shownFindings())[0]!.reference_order).toBe(HOSTILE);
    expect(await page.title()).toMatch(/^รายงานกระทบยอด/);

    await filterFindings(page, {});
    await page.click('#page-next');
    expect(await page.textContent('#page-info')).toBe(`page 2 of ${(COUNT / PAGE_SIZE).toLocaleString('en-US')}`);
    // Errors first: two rows in five are errors (AMOUNT_MISMATCH at i % 5 = 0, VAT_MISMATCH at 4),
    // so rows 0-249 hold the first 100 and the 101st is row 250.
    expect((await shownFindings())[0]!.charge_id).toBe('chrg_test_250');
    expect(problems).toEqual([]);
  });
});

describe('report.html of a small run worked out by hand (figures in docs/reference.md §5.3)', () => {
  let small: { file: string; runId: string };

  beforeAll(async () => {
    small = await handWorkedReport(database, { date: '2026-03-02', tz: 'Asia/Tokyo' });
    await openInNewPage(small.file);
  });
  afterAll(() => page?.close());

  it('shows one net per currency, KBank\'s, beside the gross with the voided charge apart, with thousands separators', async () => {
    requireBrowser();
    // THB: gross 1,200,000.00 + 1,000.00 + 250.00 + 80.00 + 500.00 = 1,201,830.00, the voided
    // 300.00 apart; KBank reported the first two: settled 1,201,000.00, MDR 30,000.00 + 25.00,
    // VAT 2,100.00 + 1.75, net 1,167,900.00 + 973.25; 200.00 refunded.
    const thb = await figures('THB');
    expect(new Map([...thb].map(([figure, [, value]]) => [figure, value]))).toEqual(new Map([
      ['gross', 'THB 1,201,830.00'], ['voided', 'THB 300.00'], ['refunded', 'THB 200.00'],
      ['settled', 'THB 1,201,000.00'], ['mdr', 'THB 30,025.00'], ['vat', 'THB 2,101.75'], ['net', 'THB 1,168,873.25'],
      // 250.00 settled without figures and the 80.00 QR: 6.25 + 0.80, 0.44 + 0.06, the fee schedule's.
      ['fees_pending', '2 รายการ charges'], ['mdr_estimate', '≈ THB 7.05'], ['vat_estimate', '≈ THB 0.50'],
    ]));
    // 100.00 USD settled as 3,400.00 THB: MDR 85.00, VAT 5.95, net 3,309.05; nothing pending.
    const usd = await figures('USD');
    expect(new Map([...usd].map(([figure, [, value]]) => [figure, value]))).toEqual(new Map([
      ['gross', 'USD 100.00'], ['voided', 'USD 0.00'], ['refunded', 'USD 0.00'],
      ['settled', 'THB 3,400.00'], ['mdr', 'THB 85.00'], ['vat', 'THB 5.95'], ['net', 'THB 3,309.05'], ['fees_pending', '0 รายการ charges'],
    ]));
    expect(await page.textContent('#waterfalls [data-currency="USD"] .note')).toContain("KBank's figures for USD charges are in THB");

    // One net: no other row says net, and the old figure worked out by the page
    // (1,201,830.00 − 30,025.00 − 2,101.75 − 200.00 = 1,169,503.25) is nowhere.
    const labels = await page.$$eval('#waterfalls th', (cells) => cells.map((c) => c.textContent ?? ''));
    expect(labels.filter((label) => /net/i.test(label))).toEqual(['Net สุทธิ', 'Net สุทธิ']);
    const text = (await page.textContent('body')) ?? '';
    expect(text).not.toContain('1,169,503.25');
    expect(text).not.toContain('1169503.25');
  });

  it('marks the estimate as one, in the table and in the chart, and draws one chart per currency', async () => {
    requireBrowser();
    const thb = await figures('THB');
    for (const figure of ['mdr_estimate', 'vat_estimate']) expect(thb.get(figure)![0]).toMatch(/estimate.*ประมาณการ/);
    expect(await page.getAttribute('#waterfalls [data-currency="THB"] tr[data-figure="mdr_estimate"]', 'class')).toBe('estimate');

    const chart = await chartData(page, 'chart-waterfall-THB');
    const bar = (label: RegExp) => {
      const i = chart.labels.findIndex((l) => label.test(l));
      const set = chart.datasets.find((d) => d.data[i] !== null)!;
      return { set: set.label, range: set.data[i] };
    };
    expect(bar(/^Gross/)).toEqual({ set: 'books, THB', range: [0, 1201830] });
    expect(bar(/^Voided/)).toEqual({ set: 'books, THB', range: [0, 300] });
    // KBank's cascade: 1,201,000.00 − 30,025.00 = 1,170,975.00; − 2,101.75 = 1,168,873.25, its net.
    expect(bar(/^Settled/)).toEqual({ set: 'KBank, THB', range: [0, 1201000] });
    expect(bar(/^MDR$/)).toEqual({ set: 'KBank, THB', range: [1170975, 1201000] });
    expect(bar(/^VAT$/)).toEqual({ set: 'KBank, THB', range: [1168873.25, 1170975] });
    expect(bar(/^Net/)).toEqual({ set: 'KBank, THB', range: [0, 1168873.25] });
    expect(bar(/^MDR \(estimate/)).toEqual({ set: 'estimate, THB', range: [0, 7.05] });
    expect(bar(/^VAT \(estimate/)).toEqual({ set: 'estimate, THB', range: [0, 0.5] });
    expect((await chartData(page, 'chart-waterfall-USD')).datasets.map((d) => d.label)).toEqual(['books, USD', 'KBank, THB']);

    const charts = await chartPixels(page);
    expect(charts.map((c) => c.id).sort()).toEqual(['chart-codes', 'chart-days', 'chart-open', 'chart-waterfall-THB', 'chart-waterfall-USD']);
    for (const c of charts) expect(c.painted, `${c.id} is blank`).toBeGreaterThan(1000);
    expect(problems).toEqual([]);
  });

  it("shows who acknowledged a finding and the note, explains each code in Thai and English, and the run's times in RECON_TZ", async () => {
    requireBrowser();
    expect(await filterFindings(page, { state: 'acknowledged' })).toBe(1);
    expect(await shownFindings()).toMatchObject([{ code: 'FEES_NOT_REPORTED', finding_state: 'acknowledged', acknowledged_by: HAND_WORKED_ACK.by, ack_note: HAND_WORKED_ACK.note }]);
    for (const code of ['FEES_NOT_REPORTED', 'MISSING_AT_GATEWAY'] as const) {
      const item = (await page.textContent(`#code-list li[data-code="${code}"]`)) ?? '';
      expect(item).toContain(FINDING_TEXTS[code].th);
      expect(item).toContain(FINDING_TEXTS[code].en);
    }
    await filterFindings(page, { code: 'MISSING_AT_GATEWAY' });
    expect(await page.textContent('#code-explanation')).toBe(`MISSING_AT_GATEWAY${FINDING_TEXTS.MISSING_AT_GATEWAY.th}${FINDING_TEXTS.MISSING_AT_GATEWAY.en}`);

    // Tokyo is UTC+09:00 all year: the stored instant, nine hours on.
    const run = await database.db.selectFrom('recon_runs').select('finished_at').where('run_id', '=', small.runId).executeTakeFirstOrThrow();
    const tokyo = new Date(run.finished_at!.getTime() + 9 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    expect(await page.textContent('#run-finished')).toBe(`· เสร็จ finished ${tokyo} +09:00 (Asia/Tokyo)`);
    expect(problems).toEqual([]);
  });

  it('is usable at a phone\'s width: nothing cut off, the charts fit, the filter works', async () => {
    requireBrowser();
    await page.close();
    await openInNewPage(small.file, 400);
    await expectUsableAtPhoneWidth({ code: 'MISSING_AT_GATEWAY', count: 1 });
  });
});

describe('report.html with 3 errors beside 5,000 warnings', () => {
  const WARNINGS = 5000;
  const ERRORS: MismatchCode[] = ['MDR_MISMATCH', 'AMOUNT_MISMATCH', 'VAT_MISMATCH'];
  let file: string;

  beforeAll(async () => {
    file = join(dir, 'warnings.html');
    // The errors are the run's last three rows: in the run's order they would be on page 51.
    await writeFile(file, renderHtmlReport(syntheticReportData(WARNINGS + ERRORS.length, (i) => (i < WARNINGS ? 'FEES_NOT_REPORTED' : ERRORS[i - WARNINGS]!))));
    await openInNewPage(file);
  });
  afterAll(() => page?.close());

  it('shows the errors first, at a glance: counts by severity and the error codes explained, above the fold, and first in the table', async () => {
    requireBrowser();
    const counts = await page.$$eval('#severity-counts div', (cards) => cards.map((c) => `${c.children[0]!.textContent}: ${c.children[1]!.textContent}`));
    // Rows 5000, 5001, 5002 have states i % 3 = 2, 0, 1: the first (MDR_MISMATCH) is acknowledged.
    expect(counts).toEqual(['ข้อผิดพลาด errors: 3', 'ยังไม่รับทราบ errors not acknowledged: 2', 'คำเตือน warnings: 5,000']);
    const listed = await page.$$eval('#error-codes li', (items) => items.map((i) => i.textContent ?? ''));
    expect(listed).toHaveLength(3);
    for (const [i, code] of [...ERRORS].sort().entries()) {
      expect(listed[i]).toContain(code);
      expect(listed[i]).toContain(FINDING_TEXTS[code].th);
      expect(listed[i]).toContain(FINDING_TEXTS[code].en);
    }
    const box = (await page.locator('#errors-box').boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(1000);

    // No filter touched: the table's first page starts with the three errors, in the run's order.
    const first = (await shownFindings()).slice(0, 4);
    expect(first.map((r) => [r.severity, r.code, r.charge_id])).toEqual([
      ['error', 'MDR_MISMATCH', 'chrg_test_5000'], ['error', 'AMOUNT_MISMATCH', 'chrg_test_5001'], ['error', 'VAT_MISMATCH', 'chrg_test_5002'],
      ['warning', 'FEES_NOT_REPORTED', 'chrg_test_0'],
    ]);
    expect(first[0]).toMatchObject({ finding_state: 'acknowledged', acknowledged_by: SYNTHETIC_ACK_BY, ack_note: syntheticAckNote(5000) });
    expect(await page.textContent('#findings-count')).toBe('5,003 of 5,003 findings');

    expect(await filterFindings(page, { severity: 'error' })).toBe(3);
    expect(await filterFindings(page, { severity: 'warning' })).toBe(WARNINGS);
    await filterFindings(page, { severity: 'warning' });
    await page.click('#error-codes li:nth-child(1) button');
    expect(Number(await page.getAttribute('#findings-count', 'data-matches'))).toBe(1);
    expect((await shownFindings()).map((r) => r.code)).toEqual(['AMOUNT_MISMATCH']);
    expect(problems).toEqual([]);
  });

  it("groups the amounts of a finding's values and sentence", async () => {
    requireBrowser();
    await filterFindings(page, {});
    const [error, , , warning] = await shownFindings();
    expect(error).toMatchObject({ ledger_value: '1,000.00', gateway_value: '1,001.00', difference: '1.00', message: 'ledger 1,000.00, gateway 1,001.00 (แถว 5000)' });
    expect(warning).toMatchObject({ ledger_value: '', gateway_value: '250,000.00', difference: '', message: 'the gateway settled 250,000.00 but reports no fee figures yet (แถว 0)' });
  });

  it("is usable at a phone's width, with 100 rows of findings on screen", async () => {
    requireBrowser();
    await page.close();
    await openInNewPage(file, 400);
    await expectUsableAtPhoneWidth({ code: 'FEES_NOT_REPORTED', count: WARNINGS });
    const box = (await page.locator('#error-codes').boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(400);
  });
});
