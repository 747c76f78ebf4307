import { userInfo } from 'node:os';
import { openDatabase } from '../db/connection.ts';
import { EXIT, ReconError } from '../errors.ts';
import { readAckFile, type LineProblem } from '../followup/ack-file.ts';
import { acknowledgeFindings, describeSelector, undoAcknowledgements, unmatchedSelectors, type FindingSelector } from '../followup/acknowledge.ts';
import type { Command } from './command.ts';
import { parseFlags, requireFlag } from './command.ts';

export const ackCommand: Command = {
  name: 'ack',
  help: `Usage: kpgw-recon ack --charge ID --code CODE [--field F] [--entry E] --note TEXT [--by NAME]
       kpgw-recon ack --file FILE [--by NAME]
       kpgw-recon ack --undo (--charge ID --code CODE [--field F] [--entry E] | --file FILE) [--by NAME]

Acknowledges error findings that are known and explained (a KBank credit note, a correction
booked next month): they stay in mismatches.csv, as acknowledged with who and the note, but
no longer make a run exit 1 nor appear in open-items. An acknowledgement holds for the
values it was given on: if the ledger or gateway value changes, the finding is new again.
Acknowledgements are kept as an audit trail; --undo records that one was taken back.

A finding is named by its charge (charge id, reference order or ledger key), its code, and
where a charge has several findings with that code, its field and ledger entry. Every
finding not yet resolved that matches is acknowledged.

--file reads a CSV with a header holding at least charge_id, code and note (also used if
present: reference_order, which names the charge when charge_id is empty, field, entry_id,
by; other columns are ignored): mismatches.csv with a note column added in Excel and saved
as CSV loads back as it is. Rows with an empty note are left alone. If any noted row names
no finding that is still open, nothing of the file is applied and each such line is listed.
With --undo the note column is optional; when present, only noted rows are undone.

Flags:
  --charge ID     the charge: charge id, reference order or ledger key
  --code CODE     the finding's code, e.g. MDR_MISMATCH
  --field F       only the finding on this field, e.g. refund_info[refd_…].orig_vat
  --entry E       only the finding on this ledger entry
  --note TEXT     why it is acknowledged (required to acknowledge)
  --file FILE     many findings from a CSV (see above)
  --by NAME       who acknowledges (default: the operating-system user; a file's by
                  column, where filled, names the person for its row)
  --undo          take the acknowledgements back instead

Environment: DATABASE_URL.`,
  async run(args, ctx) {
    const flags = parseFlags('ack', args, {
      charge: { type: 'string' },
      code: { type: 'string' },
      field: { type: 'string' },
      entry: { type: 'string' },
      note: { type: 'string' },
      file: { type: 'string' },
      by: { type: 'string' },
      undo: { type: 'boolean' },
    });
    const undo = flags.undo === true;
    const by = nonEmpty('by', flags.by) ?? currentUser();
    if (flags.note !== undefined && undo) throw usage('--note is not used with --undo');
    let selectors: FindingSelector[];
    let problems: LineProblem[] = [];
    if (flags.file !== undefined) {
      const given = (['charge', 'code', 'field', 'entry', 'note'] as const).filter((name) => flags[name] !== undefined);
      if (given.length) throw usage(`--file takes the findings from the file; --${given[0]} is not used with it`);
      ({ selectors, problems } = await readAckFile(flags.file, { undo, by }));
    } else {
      const note = undo ? '' : requireFlag('ack', 'note', nonEmpty('note', flags.note));
      selectors = [{
        charge: requireFlag('ack', 'charge', nonEmpty('charge', flags.charge)),
        code: requireFlag('ack', 'code', nonEmpty('code', flags.code)),
        field: nonEmpty('field', flags.field) ?? '',
        entryId: nonEmpty('entry', flags.entry) ?? '',
        note,
        by,
      }];
    }
    const database = await openDatabase(ctx.config, ctx.logger);
    try {
      // A file with lines that cannot be read is refused whole, listing its unknown findings too.
      if (problems.length) refuse(flags.file, problems, await unmatchedSelectors(database.db, selectors));
      const outcome = await (undo ? undoAcknowledgements : acknowledgeFindings)(database.db, selectors);
      if (!outcome.ok) refuse(flags.file, [], outcome.unmatched);
      ctx.logger.info({ count: outcome.count, undo, by }, undo ? 'acknowledgements undone' : 'findings acknowledged');
      ctx.stdout.write(undo ? `undid ${plural(outcome.count, 'acknowledgement')}\n` : `acknowledged ${plural(outcome.count, 'finding')}\n`);
      return EXIT.ok;
    } finally {
      await database.close();
    }
  },
};

/**
 * Nothing applied: each bad line of a file on stderr (`FILE:LINE: problem`, as a compiler lists
 * them), then the one-line refusal.
 */
function refuse(file: string | undefined, problems: LineProblem[], unmatched: FindingSelector[]): never {
  const notFound = (s: FindingSelector) => `no open finding for ${describeSelector(s)}`;
  if (file === undefined) throw new ReconError('USAGE', `ack: ${notFound(unmatched[0]!)}`);
  const lines = [...problems, ...unmatched.map((s) => ({ line: s.line ?? 0, problem: notFound(s) }))].sort((a, b) => a.line - b.line);
  for (const { line, problem } of lines) process.stderr.write(`${file}:${line}: ${problem}\n`);
  throw new ReconError('INPUT', `ack: ${file}: nothing was applied: ${plural(lines.length, 'line')} cannot be used (listed above)`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A flag given empty (`--by ''`) is a mistake, not a default. */
function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!value.trim()) throw usage(`--${flag} is empty`);
  return value.trim();
}

function usage(message: string): ReconError {
  return new ReconError('USAGE', `ack: ${message} (see kpgw-recon ack --help)`);
}

/** Who is at the keyboard; a container's user may have no name in /etc/passwd. */
function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}
