import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns/format';
import type { Merchant } from '../config/merchants-file.ts';
import { nextScheduledTime, nightOfSchedule } from './schedule.ts';
import type { NightOutcome } from './tasks.ts';

/** What a person watching a worker reads on stdout: its nights as they end, and the next ones. */

/** `M1 night 2026-03-01: reconciled, exit 1 (findings)`, or why it failed and whether it is tried again. */
export function nightLine(night: NightOutcome): string {
  const { result } = night;
  const what = result.kind === 'reconciled'
    ? `reconciled, exit ${result.exitCode}${result.exitCode === 1 ? ' (findings)' : ''}`
    : `failed${result.final ? ', not tried again' : ', tried again later'}: ${result.reason}`;
  return `${night.mid} night ${night.date}: ${what}`;
}

/** `--once`'s closing line: what was due and ran, or that nothing was. */
export function onceLine(nights: readonly NightOutcome[], catchUpDays: number): string {
  if (!nights.length) return `nothing was due: no merchant-night was queued, and none was missed in the last ${catchUpDays} days`;
  const failed = nights.filter((n) => n.result.kind === 'failed').length;
  return `ran ${nights.length} merchant-night${nights.length === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`;
}

/** `next: M1 night 2026-03-01 at 2026-03-02 02:30 (Asia/Bangkok)`, one per merchant, soonest first. */
export function nextNightLines(merchants: readonly Merchant[], tz: string, now: Date): string[] {
  return merchants
    .map((m) => ({ mid: m.mid, at: nextScheduledTime(m.schedule, tz, now) }))
    .sort((a, b) => (a.at?.getTime() ?? Infinity) - (b.at?.getTime() ?? Infinity) || a.mid.localeCompare(b.mid))
    .map(({ mid, at }) =>
      at
        ? `next: ${mid} night ${nightOfSchedule(at.toISOString(), tz)} at ${format(new TZDate(at, tz), 'yyyy-MM-dd HH:mm')} (${tz})`
        : `next: ${mid} has no night scheduled in the next 32 days`);
}
