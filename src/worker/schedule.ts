import { TZDate } from '@date-fns/tz';
import { parseCronItem, type CronMatcher, type ParsedCronItem, type TimestampDigest } from 'graphile-worker';
import { yesterdayIn } from '../dates.ts';

/** The task a merchant's cron line queues: it turns the scheduled time into a merchant-night job. */
export const SCHEDULE_TASK = 'kpgw-recon/schedule';
/** One merchant-night: `nightly` for one merchant and date. */
export const NIGHT_TASK = 'kpgw-recon/night';

/** What a merchant's cron line carries (graphile-worker adds `_cron`: the scheduled time). */
export interface SchedulePayload {
  readonly mid: string;
  readonly _cron?: { readonly ts: string; readonly backfilled?: boolean };
}

export interface NightPayload {
  readonly mid: string;
  readonly date: string;
}

/** One job per merchant-night, however many workers or cron lines ask for it. */
export const nightJobKey = (mid: string, date: string) => `nightly:${mid}:${date}`;
/**
 * Jobs of one queue run one at a time, on whichever worker. KBank limits a key, so the queue is
 * the key's (by the name of its variable): the nights of merchants that share a key never overlap,
 * and the one rate limit they share holds.
 */
export const nightQueue = (keyEnv: string) => `key:${keyEnv}`;

/**
 * One cron line per merchant, its schedule read in `tz` (graphile-worker's cron runs in UTC),
 * with a backfill of `catchUpDays`: a worker that starts after nights were missed queues them,
 * oldest first. graphile-worker records each line's last run in its own table, so a scheduled
 * time is queued once however many workers run the cron.
 */
export function merchantCronItems(merchants: readonly { mid: string; schedule: string; keyEnv: string }[], tz: string, catchUpDays: number): ParsedCronItem[] {
  return merchants.map((m) => {
    const local = parseCronItem({ task: SCHEDULE_TASK, match: m.schedule }).match;
    return parseCronItem({
      task: SCHEDULE_TASK,
      identifier: `nightly:${m.mid}`,
      match: inZone(local, tz),
      payload: { mid: m.mid },
      options: { backfillPeriod: catchUpDays * DAY_MS, queueName: nightQueue(m.keyEnv), maxAttempts: SCHEDULE_ATTEMPTS },
    });
  });
}

/** The night a scheduled time reconciles: the day before the run's day in `tz`. */
export function nightOfSchedule(ts: string, tz: string): string {
  return yesterdayIn(tz, new Date(ts));
}

/**
 * The first minute after `after` that `schedule` (read in `tz`) names, within 32 days (a monthly
 * schedule's next run is at most that far); `undefined` when there is none that soon.
 */
export function nextScheduledTime(schedule: string, tz: string, after: Date): Date | undefined {
  const local = parseCronItem({ task: SCHEDULE_TASK, match: schedule }).match;
  const first = Math.floor(after.getTime() / MINUTE_MS + 1) * MINUTE_MS;
  for (let t = first; t < first + 32 * DAY_MS; t += MINUTE_MS) {
    const d = new TZDate(t, tz);
    if (local({ min: d.getMinutes(), hour: d.getHours(), date: d.getDate(), month: d.getMonth() + 1, dow: d.getDay() })) return new Date(t);
  }
  return undefined;
}

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Queuing the night is one insert; a failure is the database's, worth a few tries. */
const SCHEDULE_ATTEMPTS = 5;

/**
 * graphile-worker hands a matcher the UTC minute, hour, day, month and weekday of a time near
 * now (at most the backfill period before it, or the next minute); the year is the one that puts
 * that time closest to now. The matcher then sees the same instant in `tz`.
 */
function inZone(local: CronMatcher, tz: string): CronMatcher {
  return (digest) => {
    const instant = instantOf(digest, Date.now());
    const t = new TZDate(instant, tz);
    return local({ min: t.getMinutes(), hour: t.getHours(), date: t.getDate(), month: t.getMonth() + 1, dow: t.getDay() });
  };
}

function instantOf(digest: TimestampDigest, now: number): number {
  const year = new Date(now).getUTCFullYear();
  const candidates = [year - 1, year, year + 1].map((y) => Date.UTC(y, digest.month - 1, digest.date, digest.hour, digest.min));
  return candidates.reduce((best, t) => (Math.abs(t - now) < Math.abs(best - now) ? t : best));
}
