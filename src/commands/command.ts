import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Writable } from 'node:stream';
import type { Config } from '../config.ts';
import type { ExitCode } from '../errors.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** What every command gets from the CLI shell. */
export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  /** Human output (summaries); logs go to stderr through `logger`. */
  readonly stdout: Writable;
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

/** `parseArgs` in strict mode, with its errors turned into one-line usage errors. */
export function parseFlags<T extends FlagSpec>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ReconError('USAGE', `${command}: ${message} (see kpgw-recon ${command} --help)`);
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks a `YYYY-MM-DD` flag value, returning it unchanged. */
export function isoDateFlag(command: string, flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ok = ISO_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
    && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
  if (!ok) throw new ReconError('USAGE', `${command}: --${flag} '${value}' is not a date (YYYY-MM-DD)`);
  return value;
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
