import { resolve } from 'node:path';
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns/format';
import { asUnreachable, createKysely, openServer } from '../db/connection.ts';
import { urlForMerchant } from '../db/merchant.ts';
import { merchantsToWatch } from '../db/merchant-choice.ts';
import { migrate } from '../db/migrate.ts';
import { todayIn } from '../dates.ts';
import { EXIT } from '../errors.ts';
import { formatCount } from '../report/human-summary.ts';
import { checkWritableFile } from '../report/output-dir.ts';
import { countOpenItems, lastFinishedRun, type MerchantStatus } from '../status/last-run.ts';
import { overdue, prometheusText, writeAtomically } from '../status/prometheus.ts';
import type { Command } from './command.ts';
import { parseFlags, wholeNumberFlag } from './command.ts';

/** A day and two hours: a nightly that runs at 02:30 is late once it misses one night by two hours. */
const DEFAULT_MAX_AGE_HOURS = 26;

export const statusCommand: Command = {
  name: 'status',
  help: `Usage: kpgw-recon status [--max-age-hours N] [--prometheus FILE]

Did last night run? For each merchant, the last finished run: its dates, as-of day, exit
code, findings, the open items now, and when it finished. Exits 1 when a merchant's last
finished run finished more than N hours ago, or it has none, so cron or a monitor can tell a
nightly that stopped (cron line, machine down, worker gone) from one that ran.

The merchants: RECON_MERCHANT alone when set; else every merchant of the merchants file
(RECON_MERCHANTS), or without one every merchant whose tables the database holds; and the
single merchant of a plain set-up when its tables hold anything, or when there is no other.

Flags:
  --max-age-hours N   how old the last finished run may be, 1 to 8784 (default 26)
  --prometheus FILE   also write the same as Prometheus text-format metrics to FILE (for
                      node_exporter's textfile collector: a file ending in .prom), written to
                      a temporary file and renamed

Environment: DATABASE_URL, RECON_MERCHANT, RECON_MERCHANTS, RECON_TZ (the times shown).

Exit codes: 0 every merchant's last run is recent; 1 one is older than N hours or has none;
2 usage or configuration error; 3 database unreachable. Examples in docs/reference.md.`,
  async run(args, ctx) {
    const flags = parseFlags('status', args, { 'max-age-hours': { type: 'string' }, prometheus: { type: 'string' } });
    const maxAgeHours = wholeNumberFlag('status', 'max-age-hours', flags['max-age-hours'], DEFAULT_MAX_AGE_HOURS, { min: 1, max: 8784 });
    const promFile = flags.prometheus === undefined ? undefined : resolve(flags.prometheus);
    if (flags.prometheus !== undefined) await checkWritableFile(flags.prometheus, '--prometheus');
    const now = new Date();
    const statuses: MerchantStatus[] = [];
    const server = await openServer(ctx.config, ctx.logger);
    let url = server.url;
    try {
      for (const { mid, hasTables } of await merchantsToWatch(server.url, ctx.config)) {
        if (!hasTables) {
          statuses.push({ mid, lastRun: undefined, openItems: { open_charge: 0, finding: 0, stale: 0 } });
          continue;
        }
        url = urlForMerchant(server.url, mid);
        await migrate(url, ctx.logger);
        const db = createKysely(url, 1);
        try {
          const scope = { asOf: todayIn(ctx.config.tz, now), openMaxDays: ctx.config.recon.openMaxDays };
          statuses.push({ mid, lastRun: await lastFinishedRun(db), openItems: await countOpenItems(db, scope) });
        } finally {
          await db.destroy();
        }
      }
    } catch (error) {
      throw asUnreachable(error, url);
    } finally {
      await server.stop();
    }
    const options = { maxAgeHours, now };
    for (const status of statuses) ctx.stdout.write(`${describeStatus(status, options, ctx.config.tz)}\n`);
    const late = statuses.filter((s) => overdue(s, options));
    ctx.stdout.write(
      late.length
        ? `${late.length} of ${statuses.length} ${merchants(statuses.length)} without a finished run in the last ${maxAgeHours} hours: ${late.map((s) => label(s.mid)).join(', ')}\n`
        : `every merchant's last run finished within ${maxAgeHours} hours\n`,
    );
    if (promFile) await writeAtomically(promFile, prometheusText(statuses, options));
    return late.length ? EXIT.findings : EXIT.ok;
  },
};

/**
 * `SHOPA: nightly 2026-11-29, as of 2026-11-30: exit 1, findings 184 (120 errors), open items
 * 1,051; finished 2026-11-30 02:41 (Asia/Bangkok), 6.2 hours ago`, and `LATE` when overdue.
 */
function describeStatus(status: MerchantStatus, options: { maxAgeHours: number; now: Date }, tz: string): string {
  const run = status.lastRun;
  const late = overdue(status, options) ? `  LATE (more than ${options.maxAgeHours} hours)` : '';
  if (!run) return `${label(status.mid)}: no finished run${late}`;
  const dates = run.from === run.to ? run.from : `${run.from} to ${run.to}`;
  const open = status.openItems.open_charge + status.openItems.finding + status.openItems.stale;
  const hours = (options.now.getTime() - run.finishedAt.getTime()) / 3_600_000;
  const findings = run.findings.error + run.findings.warning;
  return `${label(status.mid)}: ${run.kind} ${dates}, as of ${run.asOf}: exit ${run.exitCode}, findings ${formatCount(findings)} (${formatCount(run.findings.error)} error${run.findings.error === 1 ? '' : 's'}), open items ${formatCount(open)}; `
    + `finished ${format(new TZDate(run.finishedAt, tz), 'yyyy-MM-dd HH:mm')} (${tz}), ${hours.toFixed(1)} hours ago${late}`;
}

function label(mid: string): string {
  return mid || 'the single merchant';
}

function merchants(n: number): string {
  return n === 1 ? 'merchant' : 'merchants';
}
