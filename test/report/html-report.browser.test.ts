import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney, money, sum } from '../../src/money.ts';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import { FINDING_COLUMNS } from '../../src/report/html-report-data.ts';
import { chartPixels, filterFindings, launchChromium, openReport, watchPage } from '../helpers/browser.ts';
import { runCli } from '../helpers/cli.ts';
import { SYNTHETIC_CODES, SYNTHETIC_STATES, syntheticCount, syntheticReportData } from '../helpers/html-report-fixture.ts';

type Row = Record<string, string>;
const PAGE_SIZE = 100;

const dir = await mkdtemp(join(tmpdir(), 'kpgw-html-'));
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

/** Opens `file` in a new page, when there is a browser. */
async function openInNewPage(file: string): Promise<void> {
  if (browser instanceof Error) return;
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  problems = watchPage(page);
  await openReport(page, file);
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
    const cells = await page.$$eval('#waterfalls table tr', (rows) => rows.map((r): [string, string] => [r.children[0]!.textContent ?? '', r.children[1]!.textContent ?? '']));
    const shown = new Map(cells);
    expect(shown.get('Gross')).toBe(`THB ${grouped(total('gross_amount'))}`);
    expect(shown.get('MDR')).toBe(`THB ${grouped(total('mdr'))}`);
    expect(shown.get('VAT')).toBe(`THB ${grouped(total('vat'))}`);
    expect(shown.get('Refunded')).toBe(`THB ${grouped(total('refunded_amount'))}`);
  });

  it("filters the findings by code to as many rows as mismatches.csv has of it, and finds a charge by its id", async () => {
    requireBrowser();
    expect(await filterFindings(page, {})).toBe(mismatches.length);
    const byCode = new Map<string, number>();
    for (const m of mismatches) byCode.set(m.code!, (byCode.get(m.code!) ?? 0) + 1);
    const [code, count] = [...byCode].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;
    expect(await filterFindings(page, { code })).toBe(count);
    const codes = await page.$$eval('#findings tbody tr', (rows) => rows.map((r) => r.children[4]!.textContent));
    expect(codes).toEqual(Array(Math.min(count, PAGE_SIZE)).fill(code));

    const chargeId = mismatches.find((m) => m.charge_id)!.charge_id!;
    const expected = mismatches.filter((m) => `${m.charge_id}\u0000${m.reference_order}`.toLowerCase().includes(chargeId.toLowerCase())).length;
    expect(await filterFindings(page, { search: chargeId })).toBe(expected);
    const shownIds = await page.$$eval('#findings tbody tr', (rows) => rows.map((r) => r.children[2]!.textContent ?? ''));
    expect(shownIds).toContain(chargeId);
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
    expect(await page.textContent('#findings tbody tr:first-child td:nth-child(4)')).toBe(HOSTILE);
    expect(await page.title()).toMatch(/^รายงานกระทบยอด/);

    await filterFindings(page, {});
    await page.click('#page-next');
    expect(await page.textContent('#page-info')).toBe(`page 2 of ${COUNT / PAGE_SIZE}`);
    expect(await page.textContent('#findings tbody tr:first-child td:nth-child(3)')).toBe(`chrg_test_${PAGE_SIZE}`);
    expect(problems).toEqual([]);
  });
});
