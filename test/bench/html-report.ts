/**
 * report.html benchmark (`npm run bench:html`, or `npx tsx test/bench/html-report.ts [findings]`):
 * renders a report of 50,000 findings, opens it from disk in Debian's Chromium and times what a
 * clerk waits for: the page drawn, a filter by code, a search by charge id, the next page.
 * Target (issue 14): each interaction well under a second on this machine's two cores.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import { filterFindings, launchChromium, openReport, watchPage } from '../helpers/browser.ts';
import { SYNTHETIC_CODES, syntheticReportData } from '../helpers/html-report-fixture.ts';

const count = Number(process.argv[2] ?? 50_000);
const dir = await mkdtemp(join(tmpdir(), 'kpgw-bench-html-'));
const browser = await launchChromium();
try {
  const file = join(dir, 'report.html');
  let started = performance.now();
  await writeFile(file, renderHtmlReport(syntheticReportData(count)));
  console.log(`rendered ${count.toLocaleString('en')} findings in ${ms(started)} ms: ${((await stat(file)).size / 1e6).toFixed(1)} MB`);

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = watchPage(page);
  started = performance.now();
  await openReport(page, file);
  console.log(`opened and drawn in ${ms(started)} ms`);
  const timed = async (label: string, work: () => Promise<unknown>) => {
    const t0 = performance.now();
    const result = await work();
    console.log(`${label}: ${ms(t0)} ms (${String(result)})`);
  };
  await timed('filter by code', () => filterFindings(page, { code: SYNTHETIC_CODES[2] }));
  await timed('search by charge id', () => filterFindings(page, { search: `chrg_test_${count - 1}` }));
  await timed('all, then next page', async () => (await filterFindings(page, {}), page.click('#page-next')));
  if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
} finally {
  await browser.close();
  await rm(dir, { recursive: true, force: true });
}

function ms(since: number): string {
  return (performance.now() - since).toFixed(0);
}
