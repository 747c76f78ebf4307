import { join, relative, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { sql } from 'kysely';
import { merchantMid } from '../config/config.ts';
import type { DatabaseHandle } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { executeRuns } from '../run/execute-runs.ts';
import { datesBetween, shiftDate, todayIn } from '../dates.ts';
import { EXIT, type ExitCode } from '../errors.ts';
import { exportFinance } from '../finance/finance-export.ts';
import { writeVatReport } from '../finance/vat-schedule.ts';
import { ZERO } from '../money.ts';
import { notifyTarget } from '../notify/notify-target.ts';
import { startReceiver } from '../notify/receiver.ts';
import type { RunContext, RunOutcome, RunRequest } from '../run/run-request.ts';
import { writeSample } from './write-sample.ts';
import { formatCount } from '../report/human-summary.ts';
import { checkReportDir } from '../report/output-dir.ts';
import { startSimulator, type Simulator } from '../simulator/index.ts';

const DEMO_KEY = 'skey_test_demo_not_a_secret';

/** The demo prints as it goes: it needs somewhere to print. */
type DemoContext = RunContext & { readonly stdout: Writable };

/**
 * The demo: a generated sample, the simulator, a notify-receiver and a full run on a database of
 * its own, then the finance files of its dates and how to try the other commands by hand.
 */
export async function runDemo(ctx: DemoContext, options: { readonly perDay: number }): Promise<ExitCode> {
  const { perDay } = options;
  await checkReportDir(undefined, ctx.config.reportsDir);
  const today = todayIn(ctx.config.tz);
  const from = shiftDate(today, -3);
  const to = shiftDate(today, -1);
  const dir = resolve('.data', 'demo');
  const dataDir = join('.data', 'demo-postgres');
  await rm(dir, { recursive: true, force: true });
  // Each charge's life at the gateway day by day, the simulator's clock on today: yesterday's
  // card charges are settled but their fees not reported yet, as KBank does, so the demo has
  // open items to show.
  const sample = await writeSample(dir, { from, days: 3, chargesPerDay: perDay, asOf: today, timeline: {} });
  const simulator = await startSimulator({
    secretKey: DEMO_KEY,
    dataFile: sample.gateway,
    today,
    // A little weather, so the demo shows retries and the odd unverified charge.
    faults: { random: { http500: 0.01, malformed: 0.002, hang: 0.001 } },
    seed: 3,
  });
  ctx.stdout.write(`demo: ${formatCount(sample.data.expected.size)} sample charges for ${from}..${to} in ${dir}; simulator at ${simulator.url}\n`);
  const config = {
    ...ctx.config,
    // A database of the demo's own, emptied first: sample data never mixes with real books.
    databaseUrl: undefined,
    embeddedDataDir: dataDir,
    // The single merchant's tables, whatever merchants the environment names.
    merchant: '',
    worker: { ...ctx.config.worker, merchantsFile: undefined },
    kpgw: { ...ctx.config.kpgw, baseUrl: simulator.url, secretKey: DEMO_KEY, rateLimitRps: 500, concurrency: 16, timeoutMs: 2000, maxRetries: 2 },
  };
  const demo = { ...ctx, config };
  const request: Omit<RunRequest, 'runId'> = {
    kind: 'demo',
    from,
    to,
    asOf: today,
    ledgers: [join(dir, 'ledger')],
    plans: [join(dir, 'plans')],
    fees: { kind: 'file', file: sample.fees },
    tolerance: ZERO,
  };
  try {
    await executeRuns(demo, async (database) => [{ ...request, notifications: await receiveNotifications(demo, database, simulator) }], {
      // Every table, the acknowledgements' audit trail included (which refuses to be emptied).
      prepare: async ({ db, url }) => {
        await sql`DROP SCHEMA public CASCADE`.execute(db);
        await sql`CREATE SCHEMA public`.execute(db);
        await migrate(url);
      },
      after: async (database, outcome) => (await financeFiles(database, outcome, { from, to }, merchantMid(config))) + tryByHand({ dir, dataDir, today, from, to }),
    });
    // The findings are the point of the demo, not a failure of it.
    return EXIT.ok;
  } finally {
    await simulator.close();
    // The embedded server's files beside it go too (its log, its guests' folder).
    for (const path of [dataDir, `${dataDir}.guests`, `${dataDir}.log`]) await rm(path, { recursive: true, force: true });
  }
}

/**
 * The simulator's notifications, as KBank would send them, through a notify-receiver on the
 * demo's database, before the run. They arrive now, standing in for those of the sample's days:
 * the run takes every one received so far, and gives the ledger no grace hours.
 */
async function receiveNotifications(ctx: DemoContext, database: DatabaseHandle, simulator: Simulator): Promise<RunRequest['notifications']> {
  // One log line per notification is the receiver's way; the demo says it in one.
  const logger = ctx.logger.child({ component: 'demo' }, { level: 'error' });
  const receiver = await startReceiver({ host: '127.0.0.1', port: 0, targets: { single: notifyTarget({ mid: '', secretKey: DEMO_KEY, db: database.db }, logger) }, logger });
  try {
    simulator.notifyTo(`${receiver.url}/notify`);
    const sent = await simulator.notifications();
    ctx.stdout.write(`demo: ${formatCount(sent.delivered)} of ${formatCount(sent.sent)} notifications from the simulator stored by a notify-receiver at ${receiver.url}\n`);
  } finally {
    await receiver.close();
  }
  return { receivedBefore: new Date(), graceHours: 0 };
}

/** The finance export and the VAT schedule of the demo's dates, beside report.html; their findings are the demo's point too. */
async function financeFiles(database: DatabaseHandle, outcome: RunOutcome, range: { from: string; to: string }, mid: string | undefined): Promise<string> {
  const exportFile = join(outcome.reportDir, 'finance-export.csv');
  const exported = await exportFinance(database.db, range, exportFile, undefined, { merchantMid: mid });
  const lines = [`  finance     ${exportFile} (${formatCount(exported.rows)} charges)`];
  for (const month of new Set(datesBetween(range.from, range.to).map((date) => date.slice(0, 7)))) {
    const file = join(outcome.reportDir, `vat-schedule-${month}.csv`);
    await writeVatReport(database.db, { month, merchantMid: mid }, file);
    lines.push(`              ${file}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The demo's database goes when it ends: how to try the other commands on the same sample, in the checkout's own. */
function tryByHand(demo: { dir: string; dataDir: string; today: string; from: string; to: string }): string {
  const at = (path: string) => relative(process.cwd(), path) || '.';
  const sample = at(demo.dir);
  return [
    `  explore     the demo's database (${demo.dataDir}) is removed when it ends; to try the other commands on its sample, in this checkout's database:`,
    `                KPGW_SECRET_KEY=${DEMO_KEY} npx kpgw-recon simulator --data ${sample}/gateway.jsonl --today ${demo.today} --port 8787 &`,
    `                KPGW_BASE_URL=http://127.0.0.1:8787 KPGW_SECRET_KEY=${DEMO_KEY} KPGW_RATE_LIMIT_RPS=200 npx kpgw-recon run --from ${demo.from} --to ${demo.to} --as-of ${demo.today} --ledger ${sample}/ledger --plans ${sample}/plans --fees ${sample}/fees.json`,
    `                npx kpgw-recon open-items --as-of ${demo.today}`,
    '',
  ].join('\n');
}
