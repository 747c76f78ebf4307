import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Writable } from 'node:stream';
import type { Config } from '../config/config.ts';
import type { ExitCode } from '../errors.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { EARLIEST_YEAR, LATEST_YEAR } from '../vocabulary.ts';

/** What every command gets from the CLI shell. */
export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  /** Human output (summaries); logs go to stderr through `logger`. */
  readonly stdout: Writable;
  /** Human lines beside the logs: the bad lines of a refused file, the warning of an exit 1. */
  readonly stderr: Writable;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** This invocation's id: on every log line, and the `run_id` of a reconciliation run. */
  readonly runId: string;
}

export interface Command {
  readonly name: string;
  /** The full `kpgw-recon <name> --help` text: usage, flags, environment. */
  readonly help: string;
  run(args: string[], ctx: CommandContext): Promise<ExitCode>;
}

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, with its errors turned into one-line usage errors. A flag given
 * twice is refused unless it is declared `multiple` (`--ledger`, `--plans`): parseArgs would
 * keep the last one and silently drop the first.
 */
export function parseFlags<T extends FlagSpec>(command: string, args: string[], options: T) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ReconError('USAGE', `${command}: ${message} (see kpgw-recon ${command} --help)`);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) throw new ReconError('USAGE', `${command}: --${token.name} is given more than once (see kpgw-recon ${command} --help)`);
    seen.add(token.name);
  }
  return parsed.values;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks a `YYYY-MM-DD` flag value, returning it unchanged: a real calendar day, in the years a
 * ledger may hold (so `0000-01-01` or `9999-12-31` is a clear usage error, not a date
 * PostgreSQL refuses halfway through a command).
 */
export function isoDateFlag(command: string, flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ok = ISO_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
    && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
  if (!ok) throw new ReconError('USAGE', `${command}: --${flag} '${value}' is not a date (YYYY-MM-DD)`);
  checkYear(command, flag, value);
  return value;
}

const ISO_MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Checks a `YYYY-MM` flag value (`vat-report --month`), within the same years as a date. */
export function isoMonthFlag(command: string, flag: string, value: string): string {
  if (!ISO_MONTH.test(value)) throw new ReconError('USAGE', `${command}: --${flag} '${value}' is not a month (YYYY-MM)`);
  checkYear(command, flag, value);
  return value;
}

function checkYear(command: string, flag: string, value: string): void {
  const year = Number(value.slice(0, 4));
  if (year < EARLIEST_YEAR || year > LATEST_YEAR) {
    throw new ReconError('USAGE', `${command}: --${flag} '${value}' is outside the years a ledger may hold (${EARLIEST_YEAR} to ${LATEST_YEAR})`);
  }
}

/** `--as-of` (default `today`): when given, not before `--from`, since a run cannot judge days it has not reached. */
export function asOfFlag(command: string, value: string | undefined, from: string, today: string): string {
  const asOf = isoDateFlag(command, 'as-of', value);
  if (asOf !== undefined && asOf < from) throw new ReconError('USAGE', `${command}: --as-of ${asOf} is before --from ${from}`);
  return asOf ?? today;
}

/** A night to reconcile (`nightly --date`, `enqueue --date`): not after today, whose books are not closed yet. */
export function nightFlag(command: string, value: string | undefined, today: string): string | undefined {
  const night = isoDateFlag(command, 'date', value);
  if (night !== undefined && night > today) throw new ReconError('USAGE', `${command}: --date ${night} is after today (${today} in RECON_TZ)`);
  return night;
}

/**
 * `--from` and `--to` as a date range: `--from` required, `--to` required too unless
 * `toDefault` is given (run's `--to` defaults to `--from`), and not before `--from`.
 */
export function dateRangeFlags(
  command: string,
  flags: { from?: string | undefined; to?: string | undefined },
  toDefault?: 'from',
): { from: string; to: string } {
  const from = requireFlag(command, 'from', isoDateFlag(command, 'from', flags.from));
  const given = isoDateFlag(command, 'to', flags.to);
  const to = toDefault ? (given ?? from) : requireFlag(command, 'to', given);
  if (to < from) throw new ReconError('USAGE', `${command}: --to ${to} is before --from ${from}`);
  return { from, to };
}

export function requireFlag<T>(command: string, flag: string, value: T | undefined): T {
  if (value === undefined) throw new ReconError('USAGE', `${command}: --${flag} is required (see kpgw-recon ${command} --help)`);
  return value;
}

/** A whole-number flag (digits only) within `[min, max]`, or `fallback` when not given. */
export function wholeNumberFlag(
  command: string,
  flag: string,
  value: string | undefined,
  fallback: number,
  bounds: { min: number; max: number },
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < bounds.min || n > bounds.max) {
    throw new ReconError('USAGE', `${command}: --${flag} must be a whole number from ${bounds.min} to ${bounds.max}, got '${value}'`);
  }
  return n;
}

/** A flag whose value must be one of `choices` (e.g. `--encoding utf8|windows-874`). */
export function choiceFlag<T extends string>(command: string, flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new ReconError('USAGE', `${command}: --${flag} '${value}' is not one of ${choices.join(', ')}`);
  return value as T;
}
