import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { migrate } from '../db/migrate.ts';
import { rm } from 'node:fs/promises';
import type { Command } from './command.ts';
import { parseFlags, wholeNumberFlag } from './command.ts';
import { CHARGES_PER_DAY } from './generate.ts';
import { executeRun } from './execute-run.ts';
import { shiftDate, todayIn } from '../dates.ts';
import { EXIT } from '../errors.ts';
import { ZERO } from '../money.ts';
import { writeSample } from '../sample/write-sample.ts';
import { checkReportDir } from '../report/output-dir.ts';
import { startSimulator } from '../simulator/index.ts';

const DEMO_KEY = 'skey_test_demo_not_a_secret';

export const demoCommand: Command = {
  name: 'demo',
  help: `Usage: kpgw-recon demo [--per-day N]

What 'npm start' runs. It starts an embedded PostgreSQL of its own (.data/demo-postgres,
emptied at every start, so sample data never mixes with your books; DATABASE_URL is not
used), generates three days of realistic sample data under .data/demo (card, QR,
WeChat, Alipay, UnionPay, installments, refunds, voids, and some of every kind of mismatch),
starts the K-Payment Gateway simulator on a free loopback port, runs the reconciliation, and
prints the summary and where the reports are, the path of report.html (open it in a browser)
last. Exits 0 when the run completes: the sample's findings are deliberate.

The demo talks only to its own simulator, so it lifts the gateway rate cap (500 requests per
second, 16 in flight); KPGW_* settings from the environment are not used.

Flags:
  --per-day N   charges per day, 1 to 100000 (default 1000)

Environment:
  RECON_REPORTS_DIR    where the reports go (default ./reports)`,
  async run(args, ctx) {
    const flags = parseFlags('demo', args, { 'per-day': { type: 'string' } });
    const perDay = wholeNumberFlag('demo', 'per-day', flags['per-day'], 1000, CHARGES_PER_DAY);
    await checkReportDir(undefined, ctx.config.reportsDir);
    const today = todayIn(ctx.config.tz);
    const from = shiftDate(today, -3);
    const to = shiftDate(today, -1);
    const dir = resolve('.data', 'demo');
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
    ctx.stdout.write(`demo: ${sample.data.expected.size} sample charges for ${from}..${to} in ${dir}; simulator at ${simulator.url}\n`);
    try {
      const config = {
        ...ctx.config,
        // A database of the demo's own, emptied first: sample data never mixes with real books.
        databaseUrl: undefined,
        embeddedDataDir: join('.data', 'demo-postgres'),
        // The single merchant's tables, whatever merchants the environment names.
        merchant: '',
        worker: { ...ctx.config.worker, merchantsFile: undefined },
        kpgw: { ...ctx.config.kpgw, baseUrl: simulator.url, secretKey: DEMO_KEY, rateLimitRps: 500, concurrency: 16, timeoutMs: 2000, maxRetries: 2 },
      };
      await executeRun(
        { ...ctx, config },
        {
          kind: 'demo',
          from,
          to,
          asOf: today,
          ledgers: [join(dir, 'ledger')],
          plans: [join(dir, 'plans')],
          fees: { kind: 'file', file: sample.fees },
          tolerance: ZERO,
        },
        // Every table, the acknowledgements' audit trail included (which refuses to be emptied).
        async ({ db, url }) => {
          await sql`DROP SCHEMA public CASCADE`.execute(db);
          await sql`CREATE SCHEMA public`.execute(db);
          await migrate(url);
        },
      );
      // The findings are the point of the demo, not a failure of it.
      return EXIT.ok;
    } finally {
      await simulator.close();
    }
  },
};
