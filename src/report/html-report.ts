import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { packagePath } from '../package-root.ts';
import { readFindingRows, readHtmlReportData, type HtmlReportData, type OpenItemTotals } from './html-report-data.ts';

/**
 * `report.html` (docs/reference.md §5.1): one self-contained file that opens
 * from disk or an e-mail attachment with no network. The chart library, the page's script and
 * style and the run's data are all inside it; its Content-Security-Policy forbids every fetch, so a page that tried one
 * would fail loudly in the browser test rather than quietly on a clerk's laptop.
 */
export async function writeHtmlReport(db: Kysely<Database>, runId: string, file: string, input: { openItems: OpenItemTotals; tz: string; pageSize?: number }): Promise<void> {
  const data = await readHtmlReportData(db, runId, input);
  // The findings' rows are written a page at a time where the page's JSON has a placeholder for
  // them: a run's report holds every finding, and the run must not hold them all at once.
  const [head, tail, ...more] = renderHtmlReport({ ...data, findings: { ...data.findings, rows: ROWS as never } }).split(JSON.stringify(ROWS));
  if (tail === undefined || more.length) throw new Error('report.html: the findings placeholder must appear exactly once');
  const out = await open(file, 'w');
  try {
    await out.write(`${head}[`);
    let first = true;
    for await (const rows of readFindingRows(db, runId, input.pageSize)) {
      await out.write(`${first ? '' : ','}${rows.map(jsonForScript).join(',')}`);
      first = false;
    }
    await out.write(`]${tail}`);
  } finally {
    await out.close();
  }
}

/** Stands in for the findings' rows in the rendered page. PostgreSQL text cannot hold NUL, so no value of a run renders to it. */
const ROWS = '\u0000findings\u0000';

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

export function renderHtmlReport(data: HtmlReportData): string {
  const { run } = data;
  const range = run.from === run.to ? run.from : `${run.from} – ${run.to}`;
  return `<!DOCTYPE html>
<html lang="th">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`รายงานกระทบยอด kpgw-recon ${range}`)}</title>
<style>${pageAsset('page.css')}</style>
</head>
<body>
${pageAsset('page.html')}
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${scriptText(chartLibrary(), 'chart.js')}</script>
<script>${scriptText(pageAsset('page.js'), 'page.js')}</script>
</body>
</html>
`;
}

/** The page's own markup, style and script live beside this module as plain files. */
function pageAsset(name: string): string {
  return readFileSync(packagePath('src', 'report', 'html-page', name), 'utf8');
}

/**
 * Chart.js, inlined from node_modules as its minified UMD build (it defines `window.Chart`). Chosen
 * over Apache ECharts (about five times the size, for charts this page does not need) and uPlot
 * (line charts first: no floating bars for a waterfall, no category bars without plugins): it is
 * widely used and maintained, draws on canvas with no other dependency, and its floating bars make
 * the waterfall without a plugin. Its package exports do not name the UMD file, so it is found
 * beside the resolved entry point.
 */
function chartLibrary(): string {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  // The source map is not shipped in the report; the comment would make developer tools ask for it.
  return readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

/** A script's text cannot be escaped; one that would end its element early is refused. */
function scriptText(code: string, name: string): string {
  if (/<\/script|<!--/i.test(code)) throw new Error(`report.html: ${name} contains "</script" or "<!--" and cannot be inlined`);
  return code;
}

/**
 * JSON inside `<script type="application/json">`: `<`, `>` and `&` as \u escapes so no value can
 * close the element or open a comment, and U+2028/U+2029, which older parsers take for line ends.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
