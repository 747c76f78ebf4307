import { resolve } from 'node:path';
import { openDatabase } from '../db/connection.ts';
import { EXIT } from '../errors.ts';
import { checkWritableFile } from '../report/output-dir.ts';
import { writeVatReport } from '../report/vat-report.ts';
import type { Command } from './command.ts';
import { isoMonthFlag, parseFlags, requireFlag } from './command.ts';
import { FINANCE_FILE_HELP_TAIL, FORMAT_FLAGS, formatFromFlags } from './finance-file-flags.ts';

export const vatReportCommand: Command = {
  name: 'vat-report',
  help: `Usage: kpgw-recon vat-report --month YYYY-MM [--mid M] --out FILE [--encoding utf8|windows-874] [--dates iso|be]

Writes the fees KBank charged in the month, from the latest finished run of each date, for
tying to KBank's monthly tax invoice and claiming the input VAT (ภ.พ.30). Columns:
date, mid, source_type, charges, settled_amount, mdr, vat, kind, charge_id,
reference_order, amount, reason. The column kind says what a row is:
  fees             one per mid x source_type x transaction_date: the gateway's settled
                   amount, MDR and VAT of the month's charges whose fees are known
  refund_reversal  one per mid x source_type x refund_date: the MDR and VAT KBank gave back
                   on the refunds made in the month (whatever the charge's month), negative
  total            one per mid, after its rows: fees plus reversals (date empty)
  fees_unknown     last, one per charge of the month whose fees are not known yet:
                   amount, settled_amount if any, and reason (UNVERIFIED,
                   SETTLEMENT_PENDING, FEES_NOT_REPORTED); a total may still move by these
mid is the ledger's mid column (empty when the ledger has none). Amounts have two decimals.
By default UTF-8 with a byte-order mark; text cells a spreadsheet would run as a formula
are prefixed with '. See docs/reference.md.

Flags:
  --month YYYY-MM       the month of the schedule (required)
  --mid M               only this merchant id
  --out FILE            the CSV file to write (required)
${FINANCE_FILE_HELP_TAIL}`,
  async run(args, ctx) {
    const flags = parseFlags('vat-report', args, {
      month: { type: 'string' },
      mid: { type: 'string' },
      out: { type: 'string' },
      ...FORMAT_FLAGS,
    });
    const month = isoMonthFlag('vat-report', 'month', requireFlag('vat-report', 'month', flags.month));
    const format = formatFromFlags('vat-report', flags);
    const given = requireFlag('vat-report', 'out', flags.out);
    await checkWritableFile(given, '--out');
    const out = resolve(given);
    const database = await openDatabase(ctx.config, ctx.logger);
    try {
      const result = await writeVatReport(database.db, { month, ...(flags.mid === undefined ? {} : { mid: flags.mid }) }, out, format);
      ctx.logger.info({ ...result, month, out }, 'vat-report written');
      ctx.stdout.write(
        `vat-report ${month}: ${result.feeCharges} charges with fees, ${result.refundReversals} refund reversals, ${result.unknownFees} charges with fees not yet known, ${result.mids} mid${result.mids === 1 ? '' : 's'}, to ${out}\n`,
      );
      return EXIT.ok;
    } finally {
      await database.close();
    }
  },
};
