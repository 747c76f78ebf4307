/**
 * Ingests ledger files in a process of its own, for tests and the benchmark that need to kill
 * it mid-way or read its peak memory. Usage: ingest-child.ts <database-url> <path>...
 * Prints `progress <rows>` lines while reading, then one JSON line with the report's counts,
 * the ingest's duration and the process's peak RSS. With INGEST_HOLD_AT=<rows> it stops still
 * once it has read that many rows (its transaction open), for a test to kill it there: a kill
 * that lands at a known point, however slowly the test's process reads the progress lines.
 */
import { ingestLedgers } from '../../src/ingest/ledger-ingest.ts';
import { createLogger } from '../../src/log.ts';

const [url, ...paths] = process.argv.slice(2);
if (!url || !paths.length) {
  console.error('usage: ingest-child.ts <database-url> <path>...');
  process.exit(2);
}
const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
const holdAt = Number(process.env.INGEST_HOLD_AT ?? Infinity);
let nextProgress = 0;
const started = performance.now();
const report = await ingestLedgers({ url }, paths, {
  logger,
  onProgress: (rows) => {
    if (rows < nextProgress) return;
    nextProgress = rows + 50_000;
    process.stdout.write(`progress ${rows}\n`); // synchronous on a pipe
    if (rows >= holdAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until killed
  },
});
const ms = performance.now() - started;
const { rejected, ...counts } = report;
process.stdout.write(`${JSON.stringify({ ...counts, rejected: rejected.length, ms, maxRssKb: process.resourceUsage().maxRSS })}\n`);
