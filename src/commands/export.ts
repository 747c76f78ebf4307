import { resolve } from 'node:path';
import type { Command } from './command.ts';
import { dateRangeFlags, parseFlags, requireFlag } from './command.ts';
import { FINANCE_FILE_HELP_TAIL, FORMAT_FLAGS, formatFromFlags } from './finance-file-flags.ts';
import { openDatabase } from '../db/connection.ts';
import { datesBetween } from '../dates.ts';
import { EXIT } from '../errors.ts';
import { exportFinance } from '../finance/finance-export.ts';
import { checkWritableFile } from '../report/output-dir.ts';

export const exportCommand: Command = {
  name: 'export',
  help: `Usage: kpgw-recon export --from D --to D --out FILE [--encoding utf8|windows-874] [--dates iso|be]

Writes one row per charge with transaction_date in [from, to], each date taken from the
latest finished run that covers it: transaction_date, reference_order, charge_id,
source_type, brand, currency, amount, settled_amount, mdr, vat, net_amount,
refunded_amount, status (MATCHED, MISMATCH, UNVERIFIED, PENDING), codes, approval_code,
ref_1, ref_2, ref_3, convfee_amount, convfee_vat and open (true while the charge may still
change: unverified, awaiting settlement, fee figures or a refund, or Refund Sent).
By default UTF-8 with a byte-order mark, so Excel and LibreOffice show Thai text; numbers
are plain numbers; text cells that a spreadsheet would run as a formula are prefixed with '.
Columns, statuses and codes are explained in docs/reference.md.

Flags:
  --from D              first transaction date, YYYY-MM-DD (required)
  --to D                last transaction date, YYYY-MM-DD (required)
  --out FILE            the CSV file to write (required)
${FINANCE_FILE_HELP_TAIL}`,
  async run(args, ctx) {
    const flags = parseFlags('export', args, {
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      ...FORMAT_FLAGS,
    });
    const { from, to } = dateRangeFlags('export', flags);
    const format = formatFromFlags('export', flags);
    const given = requireFlag('export', 'out', flags.out);
    await checkWritableFile(given, '--out');
    const out = resolve(given);
    const database = await openDatabase(ctx.config, ctx.logger);
    try {
      const { rows, runs } = await exportFinance(database.db, { from, to }, out, format);
      const days = datesBetween(from, to).length;
      ctx.logger.info({ rows, runs, out }, 'export written');
      ctx.stdout.write(`exported ${rows} charges of ${days} day${days === 1 ? '' : 's'} from ${runs} run${runs === 1 ? '' : 's'} to ${out}\n`);
      return EXIT.ok;
    } finally {
      await database.close();
    }
  },
};
