import type { Writable } from 'node:stream';
import { ReconError } from '../errors.ts';
import { DATE_STYLES, DEFAULT_EXPORT_FORMAT, EXPORT_ENCODINGS, FILE_KINDS, type ExportFormat } from '../finance/finance-format.ts';
import { choiceFlag, type FlagSpec } from './command.ts';

/** `--format`, `--encoding` and `--dates`, shared by the commands that write a finance file (`export`, `vat-report`). */
export const FORMAT_FLAGS = {
  format: { type: 'string', default: DEFAULT_EXPORT_FORMAT.file },
  encoding: { type: 'string', default: DEFAULT_EXPORT_FORMAT.encoding },
  dates: { type: 'string', default: DEFAULT_EXPORT_FORMAT.dates },
} as const satisfies FlagSpec;

export function formatFromFlags(command: string, flags: { format: string; encoding: string; dates: string }): ExportFormat {
  const format: ExportFormat = {
    file: choiceFlag(command, 'format', flags.format, FILE_KINDS),
    encoding: choiceFlag(command, 'encoding', flags.encoding, EXPORT_ENCODINGS),
    dates: choiceFlag(command, 'dates', flags.dates, DATE_STYLES),
  };
  if (format.file === 'xlsx' && format.encoding !== 'utf8') {
    throw new ReconError('USAGE', `${command}: --encoding ${format.encoding} is for CSV files; a workbook (--format xlsx) holds any text`);
  }
  return format;
}

/** `kpgw-recon: <line>` on stderr: what a command that exits 1 says about why. */
export function warnLine(stderr: Writable, line: string): void {
  stderr.write(`kpgw-recon: ${line}\n`);
}

/** The end of such a command's `--help`: the format flags, environment and exit codes. */
export const FINANCE_FILE_HELP_TAIL = `  --format KIND         csv (default) or xlsx: a workbook with typed cells (ids and codes as
                        text, amounts as numbers shown #,##0.00, dates as dates), the header
                        row frozen and filtered
  --encoding ENCODING   csv only: utf8 (default, with BOM) or windows-874 (TIS-620, no BOM)
                        for Thai accounting packages; a character windows-874 cannot hold (an
                        emoji) stops the command naming the row, and nothing is written
  --dates STYLE         iso (default, YYYY-MM-DD) or be (DD/MM/YYYY, Buddhist-era year; in a
                        workbook, date cells shown that way)

Environment:
  DATABASE_URL   PostgreSQL ≥ 14; unset: embedded under .data/postgres
  RECON_MID      the merchant id of a single-merchant set-up: the mid of ledger rows without one
  LOG_LEVEL      pino level of the JSON logs on stderr (default info)`;
