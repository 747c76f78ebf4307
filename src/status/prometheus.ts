import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { MerchantStatus } from './last-run.ts';

/**
 * `status` as Prometheus text-format metrics, for node_exporter's textfile collector. The last
 * run's finish time is 0 for a merchant with no finished run, so one alert on its age covers a
 * nightly that stopped and one that never ran.
 */
export function prometheusText(statuses: readonly MerchantStatus[], options: { maxAgeHours: number; now: Date }): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: readonly [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) lines.push(`${name}${labelSet(labels)} ${value}`);
  };
  const each = <T>(value: (s: MerchantStatus) => T) => statuses.map((s) => [s, value(s)] as const);
  const ran = statuses.filter((s) => s.lastRun !== undefined);
  metric(
    'kpgw_recon_last_run_finished_timestamp_seconds',
    "When the merchant's last finished run finished, in seconds since 1970 (0: no finished run).",
    each((s) => (s.lastRun ? s.lastRun.finishedAt.getTime() / 1000 : 0)).map(([s, v]) => [{ merchant: s.mid }, v]),
  );
  metric(
    'kpgw_recon_last_run_overdue',
    `1 when the merchant's last finished run is older than ${options.maxAgeHours} hours or there is none, else 0.`,
    each((s) => overdue(s, options)).map(([s, v]) => [{ merchant: s.mid }, v ? 1 : 0]),
  );
  metric(
    'kpgw_recon_last_run_info',
    "The merchant's last finished run: its id, kind, dates (from, to) and as-of day, as labels.",
    ran.map((s) => {
      const r = s.lastRun!;
      return [{ merchant: s.mid, run_id: r.runId, kind: r.kind, from: r.from, to: r.to, as_of: r.asOf }, 1];
    }),
  );
  metric(
    'kpgw_recon_last_run_exit_code',
    "The exit code of the merchant's last finished run: 0 clean, 1 findings of error severity or rejected rows.",
    ran.map((s) => [{ merchant: s.mid }, s.lastRun!.exitCode]),
  );
  metric(
    'kpgw_recon_last_run_findings',
    "Findings of the merchant's last finished run (rows of its mismatches.csv), by severity.",
    ran.flatMap((s) => (['error', 'warning'] as const).map((severity) => [{ merchant: s.mid, severity }, s.lastRun!.findings[severity]] as [Record<string, string>, number])),
  );
  metric(
    'kpgw_recon_open_items',
    "The merchant's open items now, as open-items lists them, by kind.",
    statuses.flatMap((s) => Object.entries(s.openItems).map(([kind, n]) => [{ merchant: s.mid, kind }, n] as [Record<string, string>, number])),
  );
  metric('kpgw_recon_status_max_age_hours', 'The --max-age-hours status judged by.', [[{}, options.maxAgeHours]]);
  metric('kpgw_recon_status_timestamp_seconds', 'When status wrote this file, in seconds since 1970.', [[{}, options.now.getTime() / 1000]]);
  return `${lines.join('\n')}\n`;
}

/** No finished run, or the last one finished more than `maxAgeHours` before `now`. */
export function overdue(status: MerchantStatus, options: { maxAgeHours: number; now: Date }): boolean {
  const run = status.lastRun;
  return !run || options.now.getTime() - run.finishedAt.getTime() > options.maxAgeHours * 3_600_000;
}

/** `{merchant="SHOPA",severity="error"}`, values escaped as the text format says (backslash, quote, newline). */
function labelSet(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/**
 * Written beside `file` under a name the collector ignores (it reads `*.prom` only), then renamed
 * over it: the collector never reads half a file.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
