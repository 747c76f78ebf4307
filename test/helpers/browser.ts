import { access, constants } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`): the browser the report is tested in. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium, or an error that says how to install it: a missing browser fails the test, never skips it. */
export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: install it with 'apt-get install -y --no-install-recommends chromium fonts-thai-tlwg' (.ci/run does), or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM });
}

/** What went wrong while a page was open: console errors, page errors, failed or non-file requests. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) problems.push(`network request: ${request.url()}`);
  });
  return problems;
}

/**
 * Opens a report from disk and waits until its script says everything is drawn. Playwright's own
 * 30-second limits are lifted from the page: a busy machine makes drawing slow, not wrong, and a
 * page that never gets ready is caught by the test's hang guard (vitest.config.ts).
 */
export async function openReport(page: Page, file: string): Promise<void> {
  page.setDefaultTimeout(0);
  page.setDefaultNavigationTimeout(0);
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready="true"]');
}

/** Filters the findings table as a person would; returns how many findings match. */
export async function filterFindings(page: Page, filters: { severity?: string; code?: string; state?: string; date?: string; search?: string }): Promise<number> {
  await page.selectOption('#filter-severity', filters.severity ?? '');
  await page.selectOption('#filter-code', filters.code ?? '');
  await page.selectOption('#filter-state', filters.state ?? '');
  await page.selectOption('#filter-date', filters.date ?? '');
  await page.fill('#search', filters.search ?? '');
  return Number(await page.getAttribute('#findings-count', 'data-matches'));
}

/** What the check below uses of a canvas and of Chart.js, in the page (this project compiles without DOM types). */
interface PageCanvas {
  id: string;
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
type PageGlobals = { Chart: { getChart(canvas: PageCanvas): unknown } };

/** Per chart canvas: its id, whether Chart.js drew a chart on it, and how many pixels it painted. */
export function chartPixels(page: Page): Promise<{ id: string; chart: boolean; painted: number }[]> {
  return page.$$eval('canvas.chart', (canvases) =>
    canvases.map((element) => {
      const canvas = element as unknown as PageCanvas;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted += 1;
      const chart = (globalThis as unknown as PageGlobals).Chart.getChart(canvas) !== undefined;
      return { id: canvas.id, chart, painted };
    }),
  );
}

/** A chart's categories and, per data set, its label and values (a floating bar is `[from, to]`). */
export function chartData(page: Page, id: string): Promise<{ labels: string[]; datasets: { label: string; data: (number | [number, number] | null)[] }[] }> {
  return page.$eval(`#${id}`, (element) => {
    type ChartData = { data: { labels: string[]; datasets: { label: string; data: (number | [number, number] | null)[] }[] } };
    const chart = (globalThis as unknown as { Chart: { getChart(canvas: unknown): ChartData } }).Chart.getChart(element);
    return { labels: [...chart.data.labels], datasets: chart.data.datasets.map((d) => ({ label: d.label, data: [...d.data] })) };
  });
}

/** What the overflow check below uses of the page (this project compiles without DOM types). */
interface PageBox {
  left: number;
  right: number;
  width: number;
  height: number;
}
interface PageElement {
  tagName: string;
  id: string;
  className: string;
  textContent: string | null;
  parentElement: PageElement | null;
  getBoundingClientRect(): PageBox;
}
interface PageWindow {
  document: { documentElement: { clientWidth: number; scrollWidth: number }; body: PageElement; querySelectorAll(selector: string): Iterable<PageElement> };
  getComputedStyle(element: PageElement): { overflowX: string };
}

/**
 * Whether anything sticks out of the screen's width: the page's own scroll width, and each element
 * that reaches past the left or right edge, unless it lies in a box that scrolls sideways within
 * the screen (a wide table in its scroll box is not cut off: it scrolls).
 */
export function horizontalOverflow(page: Page): Promise<{ width: number; scrollWidth: number; outside: string[] }> {
  return page.evaluate(() => {
    const w = globalThis as unknown as PageWindow;
    const width = w.document.documentElement.clientWidth;
    const within = (box: PageBox) => box.left >= -0.5 && box.right <= width + 0.5;
    const scrolls = (element: PageElement) => ['auto', 'scroll'].includes(w.getComputedStyle(element).overflowX) && within(element.getBoundingClientRect());
    const outside: string[] = [];
    for (const element of w.document.querySelectorAll('body *')) {
      const box = element.getBoundingClientRect();
      if ((box.width === 0 && box.height === 0) || within(box)) continue;
      let parent = element.parentElement;
      while (parent && parent !== w.document.body && !scrolls(parent)) parent = parent.parentElement;
      if (parent && parent !== w.document.body) continue;
      outside.push(`${element.tagName.toLowerCase()}#${element.id}.${element.className} ${Math.round(box.left)}..${Math.round(box.right)}: ${(element.textContent ?? '').slice(0, 40)}`);
    }
    return { width, scrollWidth: w.document.documentElement.scrollWidth, outside };
  });
}
