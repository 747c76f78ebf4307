import { DATE_STYLES, DEFAULT_EXPORT_FORMAT, EXPORT_ENCODINGS, type ExportFormat } from '../finance/finance-format.ts';
import { choiceFlag, type FlagSpec } from './command.ts';

/** `--encoding` and `--dates`, shared by the commands that write a finance CSV (`export`, `vat-report`). */
export const FORMAT_FLAGS = {
  encoding: { type: 'string', default: DEFAULT_EXPORT_FORMAT.encoding },
  dates: { type: 'string', default: DEFAULT_EXPORT_FORMAT.dates },
} as const satisfies FlagSpec;

export function formatFromFlags(command: string, flags: { encoding: string; dates: string }): ExportFormat {
  return { encoding: choiceFlag(command, 'encoding', flags.encoding, EXPORT_ENCODINGS), dates: choiceFlag(command, 'dates', flags.dates, DATE_STYLES) };
}

/** The end of such a command's `--help`: the format flags, environment and exit codes. */
export const FINANCE_FILE_HELP_TAIL = `  --encoding ENCODING   utf8 (default, with BOM) or windows-874 (TIS-620, no BOM) for Thai
                        accounting packages; a character windows-874 cannot hold (an emoji)
                        stops the command naming the row, and nothing is written
  --dates STYLE         iso (default, YYYY-MM-DD) or be (DD/MM/YYYY, Buddhist-era year)

Environment:
  DATABASE_URL   PostgreSQL ≥ 14; unset: embedded under .data/postgres
  LOG_LEVEL      pino level of the JSON logs on stderr (default info)

Exit codes: 0 written; 2 usage error or a character the encoding cannot hold; 3 database
unreachable.`;
