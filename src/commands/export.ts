import { resolve } from 'node:path';
import type { Command } from './command.ts';
import { dateRangeFlags, parseFlags, requireFlag } from './command.ts';
import { FINANCE_FILE_HELP_TAIL, FORMAT_FLAGS, formatFromFlags, warnLine } from './finance-file-flags.ts';
import { merchantMid } from '../config/config.ts';
import { openDatabase } from '../db/connection.ts';
import { dateRanges, datesBetween } from '../dates.ts';
import { EXIT } from '../errors.ts';
import { exportFinance } from '../finance/finance-export.ts';
import { formatCount } from '../report/human-summary.ts';
import { checkWritableFile } from '../report/output-dir.ts';

export const exportCommand: Command = {
  name: 'export',
  help: `Usage: kpgw-recon export --from D --to D --out FILE [--format csv|xlsx] [--encoding utf8|windows-874] [--dates iso|be]

Writes one row per ledger charge with transaction_date in [from, to], each once (a charge
the ledger books on two dates counts once, by its first row), retracted rows left out, as
the latest finished run that reconciled it says: transaction_date, reference_order,
charge_id, source_type, brand, currency, amount, settled_amount, mdr, vat, net_amount,
refunded_amount, status, codes, approval_code, ref_1, ref_2, ref_3, convfee_amount,
convfee_vat, open, transaction_state, mid and card_masking.
status is MATCHED, MISMATCH (an error finding), UNVERIFIED (no answer from KBank), PENDING
(KBank has not settled the charge or not reported its fees yet) or NOT_RECONCILED (no
finished run reconciled it). settled_amount, mdr, vat and net_amount are KBank's figures in
THB, empty while KBank has not reported them (never 0). open is true while the charge may
still change. mid is the ledger row's, else RECON_MID's.
A CSV is UTF-8 with a byte-order mark by default, so Excel and LibreOffice show Thai text;
numbers are plain numbers; text cells that a spreadsheet would run as a formula are
prefixed with '. Columns, statuses and codes are explained in docs/reference.md.

Flags:
  --from D              first transaction date, YYYY-MM-DD (required)
  --to D                last transaction date, YYYY-MM-DD (required)
  --out FILE            the file to write (required)
${FINANCE_FILE_HELP_TAIL}

Exit codes: 0 written, every date covered and every charge reconciled; 1 written with
NOT_RECONCILED charges or dates no finished run covers (named on stderr), or nothing
written because no finished run covers any date of the range; 2 usage error or a
character the encoding cannot hold; 3 database unreachable.`,
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
      const result = await exportFinance(database.db, { from, to }, out, format, { merchantMid: merchantMid(ctx.config) });
      const days = datesBetween(from, to).length;
      if (!result.written) {
        warnLine(ctx.stderr, `export: no finished run covers ${from === to ? from : `${from} to ${to}`} in this database, so nothing was written (run or rerun those dates first)`);
        return EXIT.findings;
      }
      ctx.logger.info({ rows: result.rows, runs: result.runs, notReconciled: result.notReconciled, uncovered: result.uncovered.length, out }, 'export written');
      ctx.stdout.write(`exported ${formatCount(result.rows)} charge${result.rows === 1 ? '' : 's'} of ${days} day${days === 1 ? '' : 's'} from ${result.runs} run${result.runs === 1 ? '' : 's'} to ${out}\n`);
      if (!result.notReconciled && !result.uncovered.length) return EXIT.ok;
      const n = result.notReconciled;
      const gaps = result.uncovered.length ? `; no finished run covers ${dateRanges(result.uncovered)}` : '';
      warnLine(ctx.stderr, `export: ${formatCount(n)} charge${n === 1 ? ' is' : 's are'} NOT_RECONCILED${gaps} (run or rerun those dates)`);
      return EXIT.findings;
    } finally {
      await database.close();
    }
  },
};
