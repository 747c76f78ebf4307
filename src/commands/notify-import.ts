import { parseArgs } from 'node:util';
import { EXIT, ReconError, type ExitCode } from '../errors.ts';
import { importNotifyFile } from '../notify/notify-import.ts';
import { checkInputFile } from '../input-file.ts';
import { formatCount } from '../report/human-summary.ts';
import { openImportTarget } from '../notify/open-targets.ts';
import type { Command } from './command.ts';

export const notifyImportCommand: Command = {
  name: 'notify-import',
  help: `Usage: kpgw-recon notify-import FILE…

Loads WebHook Notify bodies that the shop's own system already stored: each FILE is a JSON array
of bodies, or JSON lines (one body per line). Each body gets the receiver's checks (a JSON
object of at most 64 KiB, its checksum verified with the merchant's key) and is stored exactly
as written in the file, with the import's time; one already stored (the same bytes, received
or imported before) is not stored again, so importing a file twice stores nothing new. A part
of a file that is not a notification is reported with its file and line, and the rest goes on.
See docs/reference.md, notify-import.

Exit codes: 0 every body imported and verified; 1 done, with rejected lines or bodies whose
checksum fails (kept as evidence, never trusted); 2 a file cannot be read, or the
configuration is wrong; 3 the database is unreachable or the import was interrupted (what was
stored stays; import the file again to finish).

Environment:
  KPGW_SECRET_KEY   the merchant's secret key, which verifies each body
  RECON_MERCHANTS   with RECON_MERCHANT: the merchant's key is its key_env's
  RECON_MERCHANT    the merchant whose notifications these are (its schema)
  DATABASE_URL      PostgreSQL ≥ 14; unset: an embedded PostgreSQL under .data/postgres`,
  async run(args, { config, logger, stdout, signal }) {
    const files = positionalFiles(args);
    // Every file is checked before any is imported: a typo in the last name stops the import before it starts.
    for (const file of files) await checkInputFile(file, 'the notifications file');
    const { targets: target, close } = await openImportTarget(config, logger);
    let code: ExitCode = EXIT.ok;
    try {
      for (const file of files) {
        const c = await importNotifyFile(file, target, logger, signal);
        const failing = c.invalid > 0 ? `; ${formatCount(c.invalid)} with a checksum that FAILS (${formatCount(c.storedInvalid)} of them stored now, ${formatCount(c.counted)} only counted)` : '';
        const rejected = c.rejected > 0 ? `; ${formatCount(c.rejected)} rejected (see the log for file and line)` : '';
        stdout.write(`${file}: ${formatCount(c.stored)} stored, ${formatCount(c.repeats)} already stored${failing}${rejected}\n`);
        if (c.invalid > 0 || c.rejected > 0) code = EXIT.findings;
      }
      return code;
    } finally {
      await close();
    }
  },
};

function positionalFiles(args: string[]): string[] {
  let positionals: string[];
  try {
    positionals = parseArgs({ args, options: {}, strict: true, allowPositionals: true }).positionals;
  } catch (error) {
    throw new ReconError('USAGE', `notify-import: ${(error as Error).message.split('\n')[0]} (see kpgw-recon notify-import --help)`);
  }
  if (positionals.length === 0) throw new ReconError('USAGE', 'notify-import: name at least one FILE (see kpgw-recon notify-import --help)');
  return positionals;
}
