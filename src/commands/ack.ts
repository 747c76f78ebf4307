import type { Writable } from 'node:stream';
import { openDatabase } from '../db/connection.ts';
import { EXIT, ReconError } from '../errors.ts';
import { readAckFile } from '../followup/ack-file.ts';
import { acknowledgeFindings, describeSelector, undoAcknowledgements, unmatchedSelectors, type FindingSelector } from '../followup/acknowledge.ts';
import type { LineProblem } from '../followup/edited-csv.ts';
import { currentUser, plural, refuseLines, textFlag, usageError } from './clerk-input.ts';
import type { Command } from './command.ts';
import { parseFlags, requireFlag } from './command.ts';

export const ackCommand: Command = {
  name: 'ack',
  help: `Usage: kpgw-recon ack --charge ID --code CODE [--field F] [--entry E] --note TEXT [--by NAME]
       kpgw-recon ack --file FILE [--by NAME]
       kpgw-recon ack --undo (--charge ID --code CODE [--field F] [--entry E] | --file FILE) [--by NAME]

Acknowledges findings that are known and explained (a KBank credit note, a correction
booked next month), errors and warnings alike: they stay in mismatches.csv, as acknowledged
with who and the note, but an error no longer makes a run exit 1 nor appears in open-items,
and an open charge's own warning (SETTLEMENT_PENDING, say) shows who and the note there. An
acknowledgement holds for the values it was given on: if the ledger or gateway value
changes, the finding is new again. A finding has one acknowledgement at a time: acknowledging
it again with another note records the earlier one as undone, in the same step; the same note
again changes nothing. Acknowledgements are kept as an audit trail; --undo records that one
was taken back.

A finding is named by its charge (charge id, reference order or ledger key), its code, and
where a charge has several findings with that code, its field and ledger entry. Every
finding not yet resolved that matches is acknowledged.

--file reads a CSV with a header holding at least charge_id, code and a note column (also
used if present: reference_order, which names the charge when charge_id is empty, field,
entry_id, by; other columns are ignored). The note column is note, else ack_note:
mismatches.csv loads back as it is, with the notes written in its own ack_note column, or in
a note column added in Excel (then ack_note is ignored); its acknowledged_by column is who
acknowledged before, not who acknowledges now. Rows with an empty note are left alone. If
any noted row names no finding that is still open, nothing of the file is applied and each
such line is listed. With --undo the note column is optional; when present, only noted rows
are undone, and each must name a finding that is acknowledged.

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
    const text = (name: 'charge' | 'code' | 'field' | 'entry' | 'note' | 'by') => textFlag('ack', name, flags[name]);
    const by = text('by') ?? currentUser();
    if (flags.note !== undefined && undo) throw usageError('ack', '--note is not used with --undo');
    let selectors: FindingSelector[];
    let problems: LineProblem[] = [];
    if (flags.file !== undefined) {
      const given = (['charge', 'code', 'field', 'entry', 'note'] as const).filter((name) => flags[name] !== undefined);
      if (given.length) throw usageError('ack', `--file takes the findings from the file; --${given[0]} is not used with it`);
      ({ selectors, problems } = await readAckFile(flags.file, { undo, by }));
    } else {
      const note = undo ? '' : requireFlag('ack', 'note', text('note'));
      selectors = [{
        charge: requireFlag('ack', 'charge', text('charge')),
        code: requireFlag('ack', 'code', text('code')),
        field: text('field') ?? '',
        entryId: text('entry') ?? '',
        note,
        by,
      }];
    }
    const database = await openDatabase(ctx.config, ctx.logger);
    try {
      // A file with lines that cannot be read is refused whole, listing its unknown findings too.
      if (problems.length) refuse(ctx.stderr, flags.file, undo, problems, await unmatchedSelectors(database.db, selectors, undo));
      if (undo) {
        const outcome = await undoAcknowledgements(database.db, selectors);
        if (!outcome.ok) refuse(ctx.stderr, flags.file, undo, [], outcome.unmatched);
        ctx.logger.info({ count: outcome.count, undo, by }, 'acknowledgements undone');
        ctx.stdout.write(`undid ${plural(outcome.count, 'acknowledgement')}\n`);
        return EXIT.ok;
      }
      const outcome = await acknowledgeFindings(database.db, selectors);
      if (!outcome.ok) refuse(ctx.stderr, flags.file, undo, [], outcome.unmatched);
      ctx.logger.info({ count: outcome.count, replaced: outcome.replaced, unchanged: outcome.unchanged, by }, 'findings acknowledged');
      ctx.stdout.write(`${describeAcknowledged(outcome)}\n`);
      return EXIT.ok;
    } finally {
      await database.close();
    }
  },
};

/** `acknowledged 2 findings (1 replacing an earlier acknowledgement; 3 already acknowledged with the same note)`. */
function describeAcknowledged(outcome: { count: number; replaced: number; unchanged: number }): string {
  const notes = [
    outcome.replaced ? `${outcome.replaced} replacing an earlier acknowledgement` : '',
    outcome.unchanged ? `${outcome.unchanged} already acknowledged with the same note` : '',
  ].filter(Boolean);
  return `acknowledged ${plural(outcome.count, 'finding')}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** Nothing applied: the findings named that are not there (not open, or when undoing not acknowledged). */
function refuse(stderr: Writable, file: string | undefined, undo: boolean, problems: LineProblem[], unmatched: FindingSelector[]): never {
  const notFound = (s: FindingSelector) => `no ${undo ? 'acknowledged' : 'open'} finding for ${describeSelector(s)}`;
  if (file === undefined) throw new ReconError('USAGE', `ack: ${notFound(unmatched[0]!)}`);
  refuseLines(stderr, 'ack', file, [...problems, ...unmatched.map((s) => ({ line: s.line ?? 0, problem: notFound(s) }))]);
}
