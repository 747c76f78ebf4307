import { resolve } from 'node:path';
import { merchantMid } from '../config/config.ts';
import { openDatabase } from '../db/connection.ts';
import { dateRanges } from '../dates.ts';
import { EXIT, ReconError } from '../errors.ts';
import { writeVatReport } from '../finance/vat-schedule.ts';
import type { Invoice } from '../finance/vat-tie-out.ts';
import { parseMoney } from '../money.ts';
import { formatCount } from '../report/human-summary.ts';
import { checkWritableFile } from '../report/output-dir.ts';
import type { Command } from './command.ts';
import { isoDateFlag, isoMonthFlag, parseFlags, requireFlag } from './command.ts';
import { FINANCE_FILE_HELP_TAIL, FORMAT_FLAGS, formatFromFlags, warnLine } from './finance-file-flags.ts';

/** An invoice amount: baht and at most two decimals, as a tax invoice prints it. */
const INVOICE_AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;

export const vatReportCommand: Command = {
  name: 'vat-report',
  help: `Usage: kpgw-recon vat-report --month YYYY-MM [--mid M] --out FILE [--format csv|xlsx] [--encoding utf8|windows-874] [--dates iso|be]
       [--invoice-mdr A --invoice-vat A [--invoice-no X] [--invoice-date D]]

Writes the fees KBank charged in the month, in THB, from the latest finished run that
reconciled each charge, for tying to KBank's monthly tax invoice and claiming the input VAT
(ภ.พ.30). Columns: date, mid, source_type, charges, settled_amount, mdr, vat, kind,
charge_id, reference_order, amount, reason, currency, date_basis. The column kind says what
a row is, in this order:
  fees             one per mid x source_type x day x currency: KBank's settled amount, MDR
                   and VAT of the charges whose fees it reported, dated by the day KBank
                   created the charge (Bangkok), whatever day the ledger books it on
  refund_reversal  one per mid x source_type x day x currency: the MDR and VAT KBank gave back
                   on the month's refunds, negative, dated by the refund's refund_date, else
                   the matched ledger refund's entry_date, else the day a run first saw it
  fees_unknown     one per other charge of the month (voided charges aside), with the reason:
                   not reconciled, open, unverified, not reported by the gateway (QR; mdr and
                   vat then hold the fee schedule's estimate), not charged by the gateway
  total            one per mid, last: fees plus reversals (THB)
  invoice, difference   with --invoice-mdr/--invoice-vat: KBank's invoice, then invoice less
                   schedule and why (a VAT difference that is only rounding per charge against
                   VAT on the month's MDR total says so, with both figures)
Every ledger charge of the month is in one row exactly (a charge booked twice counts once;
retracted rows are left out). settled_amount, mdr and vat are THB; amount and currency are
the charge's own. date_basis: created, transaction_date (KBank's day unknown), refund_date,
ledger_entry_date or seen_on. mid is the ledger row's, else RECON_MID's. See docs/reference.md.

Flags:
  --month YYYY-MM       the month of the schedule (required)
  --mid M               only this merchant id
  --out FILE            the file to write (required)
  --invoice-mdr A       the MDR on KBank's tax invoice for the month (with --invoice-vat)
  --invoice-vat A       the VAT on it
  --invoice-no X        its number, shown on the invoice row
  --invoice-date D      its date, YYYY-MM-DD
${FINANCE_FILE_HELP_TAIL}

Exit codes: 0 written, every day covered, and tied to the invoice if given (to the satang or
by rounding only); 1 written with days no finished run covers (named on stderr) or with a
difference from the invoice that rounding does not explain, or nothing written because no
finished run covers any day of the month; 2 usage error or a character the encoding cannot
hold; 3 database unreachable.`,
  async run(args, ctx) {
    const flags = parseFlags('vat-report', args, {
      month: { type: 'string' },
      mid: { type: 'string' },
      out: { type: 'string' },
      'invoice-mdr': { type: 'string' },
      'invoice-vat': { type: 'string' },
      'invoice-no': { type: 'string' },
      'invoice-date': { type: 'string' },
      ...FORMAT_FLAGS,
    });
    const month = isoMonthFlag('vat-report', 'month', requireFlag('vat-report', 'month', flags.month));
    const format = formatFromFlags('vat-report', flags);
    const invoice = invoiceFromFlags(flags);
    const given = requireFlag('vat-report', 'out', flags.out);
    await checkWritableFile(given, '--out');
    const out = resolve(given);
    const database = await openDatabase(ctx.config, ctx.logger);
    try {
      const result = await writeVatReport(database.db, { month, mid: flags.mid, merchantMid: merchantMid(ctx.config), invoice }, out, format);
      if (!result.written) {
        warnLine(ctx.stderr, `vat-report: no finished run covers any day of ${month} in this database, so nothing was written (run or rerun those dates first)`);
        return EXIT.findings;
      }
      ctx.logger.info({ ...result, month, out }, 'vat-report written');
      ctx.stdout.write(
        `vat-report ${month}: ${formatCount(result.feeCharges)} charges with fees, ${formatCount(result.refundReversals)} refund reversals, ${formatCount(result.unknownFees)} charges with fees not known, `
          + `${result.notInLedger ? `${formatCount(result.notInLedger)} not in the ledger (NOT_IN_LEDGER), ` : ''}${result.mids} mid${result.mids === 1 ? '' : 's'}, to ${out}\n`,
      );
      let exit: 0 | 1 = EXIT.ok;
      if (result.uncovered.length) {
        warnLine(ctx.stderr, `vat-report: no finished run covers ${dateRanges(result.uncovered)}: their charges are listed as fees_unknown, not reconciled (run or rerun those dates)`);
        exit = EXIT.findings;
      }
      if (result.tieOut) {
        ctx.stdout.write(`invoice: ${result.tieOut.reason}\n`);
        if (result.tieOut.outcome === 'differs') {
          warnLine(ctx.stderr, `vat-report: the schedule does not tie to the invoice: ${result.tieOut.reason}`);
          exit = EXIT.findings;
        }
      }
      return exit;
    } finally {
      await database.close();
    }
  },
};

/** `--invoice-mdr` and `--invoice-vat` go together; `--invoice-no` and `--invoice-date` only with them. */
function invoiceFromFlags(flags: { 'invoice-mdr'?: string | undefined; 'invoice-vat'?: string | undefined; 'invoice-no'?: string | undefined; 'invoice-date'?: string | undefined }): Invoice | undefined {
  const mdr = flags['invoice-mdr'];
  const vat = flags['invoice-vat'];
  if (mdr === undefined && vat === undefined) {
    if (flags['invoice-no'] !== undefined || flags['invoice-date'] !== undefined) {
      throw new ReconError('USAGE', 'vat-report: --invoice-no and --invoice-date go with --invoice-mdr and --invoice-vat');
    }
    return undefined;
  }
  const amount = (flag: string, value: string | undefined) => {
    const given = requireFlag('vat-report', flag, value);
    const parsed = INVOICE_AMOUNT.test(given) ? parseMoney(given) : undefined;
    if (!parsed) throw new ReconError('USAGE', `vat-report: --${flag} '${given}' is not an amount in baht (e.g. 1234.56)`);
    return parsed;
  };
  return {
    mdr: amount('invoice-mdr', mdr),
    vat: amount('invoice-vat', vat),
    number: flags['invoice-no'],
    date: isoDateFlag('vat-report', 'invoice-date', flags['invoice-date']),
  };
}
