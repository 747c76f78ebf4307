// What `ack` and `retract` share: who is at the keyboard, their text flags, their files' bad lines.
import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import { ReconError } from '../errors.ts';
import type { LineProblem } from '../followup/edited-csv.ts';
import { controlCharacterIn } from '../ingest/values.ts';
import { formatCount } from '../report/human-summary.ts';

/** Who is at the keyboard; a container's user may have no name in /etc/passwd. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

/**
 * A text flag's value, trimmed: given empty (`--by ''`) is a mistake, not a default, and a control
 * character (a NUL cannot even be stored) is refused in one line.
 */
export function textFlag(command: string, flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!value.trim()) throw usageError(command, `--${flag} is empty`);
  const control = controlCharacterIn(value, `--${flag}`);
  if (control) throw usageError(command, control);
  return value.trim();
}

export function usageError(command: string, message: string): ReconError {
  return new ReconError('USAGE', `${command}: ${message} (see kpgw-recon ${command} --help)`);
}

/**
 * Nothing of a file applied: each bad line on stderr (`FILE:LINE: problem`, as a compiler lists
 * them), in line order, then the one-line refusal.
 */
export function refuseLines(stderr: Writable, command: string, file: string, lines: LineProblem[]): never {
  const sorted = [...lines].sort((a, b) => a.line - b.line);
  for (const { line, problem } of sorted) stderr.write(`${file}:${line}: ${problem}\n`);
  throw new ReconError('INPUT', `${command}: ${file}: nothing was applied: ${plural(sorted.length, 'line')} cannot be used (listed above)`);
}

export function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;
}
