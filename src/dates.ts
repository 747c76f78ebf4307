import { TZDate } from '@date-fns/tz';
// One file each rather than the package's index, which loads all of date-fns (a fifth of the
// CLI's start-up).
import { addDays } from 'date-fns/addDays';
import { format } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';

/** Today's date (`YYYY-MM-DD`) in the given zone, never the machine's. */
export function todayIn(tz: string, now: Date = new Date()): string {
  return format(new TZDate(now, tz), 'yyyy-MM-dd');
}

/** The moment a day (`YYYY-MM-DD`) begins in the given zone. */
export function startOfDayIn(date: string, tz: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(new TZDate(year, month - 1, day, tz).getTime());
}

/** The night a run as of `asOf` looks back on: the day before (`nightly --date D` runs as of D + 1). */
export function nightOf(asOf: string): string {
  return shiftDate(asOf, -1);
}

/** The as-of day of a night's run: the morning after, so a night replayed later decides as it would have then. */
export function morningAfter(night: string): string {
  return shiftDate(night, 1);
}

/** Last night in the given zone: the night of today's run. */
export function yesterdayIn(tz: string, now: Date = new Date()): string {
  return nightOf(todayIn(tz, now));
}

export function shiftDate(date: string, days: number): string {
  return format(addDays(parseISO(date), days), 'yyyy-MM-dd');
}

/** A moment as people read it in reports, in the given zone with its offset: `2026-05-04 02:31:07 +07:00`. */
export function timeIn(tz: string, at: Date): string {
  return format(new TZDate(at, tz), 'yyyy-MM-dd HH:mm:ss xxx');
}

/**
 * Whole days from `from` to `to` (`YYYY-MM-DD`, which Date.parse reads as UTC midnight): native,
 * since it is asked once per charge of a run.
 */
export function daysBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / DAY_MS;
}

const DAY_MS = 86_400_000;

/** Every date from `from` to `to`, inclusive. */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let d = from; d <= to; d = shiftDate(d, 1)) dates.push(d);
  return dates;
}

/**
 * Sorted `YYYY-MM-DD` dates as ranges of consecutive days (`2026-05-03, 2026-05-10 to 2026-05-31`),
 * for a line that names days; past `most` ranges, how many more there are.
 */
export function dateRanges(dates: readonly string[], most = Number.POSITIVE_INFINITY): string {
  const ranges: string[] = [];
  for (let i = 0; i < dates.length; ) {
    let j = i;
    while (j + 1 < dates.length && dates[j + 1] === shiftDate(dates[j]!, 1)) j += 1;
    ranges.push(i === j ? dates[i]! : `${dates[i]} to ${dates[j]}`);
    i = j + 1;
  }
  return ranges.length > most ? `${ranges.slice(0, most).join(', ')} and ${ranges.length - most} more` : ranges.join(', ');
}
