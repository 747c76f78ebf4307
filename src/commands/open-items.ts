import { resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { openDatabase } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import { todayIn } from '../dates.ts';
import { EXIT, ReconError } from '../errors.ts';
import { describeTotals, writeOpenItems, writeOpenItemsCsv } from '../followup/open-items.ts';
import { checkWritableFile } from '../report/output-dir.ts';
import type { Command } from './command.ts';
import { isoDateFlag, parseFlags } from './command.ts';

export const openItemsCommand: Command = {
  name: 'open-items',
  help: `Usage: kpgw-recon open-items [--as-of D] [--out FILE]

Lists what is still open, as the database holds it now: every charge that is not final yet
(unverified, awaiting settlement, fee figures or a refund, in state Refund Sent, or due but
not asked yet), and every error finding that no later run has cleared and nobody has
acknowledged (kpgw-recon ack). One row each, oldest first, with columns
charge_id, reference_order, transaction_date, source_type, currency, amount, kind
(open_charge, finding, or stale: open longer than RECON_OPEN_MAX_DAYS and no longer asked
by itself), code, reason, open_since, age_days, age_bucket (0-1, 2-7, 8-30, 31+),
last_asked_at (UTC), next_ask_on, and acknowledged_by and ack_note (who acknowledged an
open charge's own warning, and the note). Ages count nights: the night of --as-of D is D - 1.
Every run also writes its own open-items.csv: the state after that run, kept in its folder.

Flags:
  --as-of D     the day to count ages from, YYYY-MM-DD (default: today in RECON_TZ); not
                before the as-of day of the latest finished run, whose state is the one kept
  --out FILE    write the CSV to FILE (UTF-8 with a byte-order mark, for Excel) and print
                the totals by age; without it the CSV goes to stdout, without the mark

Environment: DATABASE_URL, RECON_TZ, RECON_OPEN_MAX_DAYS (default 60).`,
  async run(args, ctx) {
    const flags = parseFlags('open-items', args, { 'as-of': { type: 'string' }, out: { type: 'string' } });
    const asOf = isoDateFlag('open-items', 'as-of', flags['as-of']) ?? todayIn(ctx.config.tz);
    const out = flags.out === undefined ? undefined : resolve(flags.out);
    if (flags.out !== undefined) await checkWritableFile(flags.out, '--out');
    const scope = { asOf, openMaxDays: ctx.config.recon.openMaxDays };
    const database = await openDatabase(ctx.config, ctx.logger);
    try {
      await refuseEarlierDay(database.db, asOf);
      if (out === undefined) {
        await writeOpenItems(database.db, scope, ctx.stdout, { bom: false, end: false });
        return EXIT.ok;
      }
      const totals = await writeOpenItemsCsv(database.db, out, scope);
      ctx.logger.info({ ...totals, out }, 'open-items written');
      ctx.stdout.write(`${describeTotals(totals)} → ${out}\n`);
      return EXIT.ok;
    } finally {
      await database.close();
    }
  },
};

/**
 * The tables hold the state after the latest run, not a history: listing it "as of" an earlier
 * day would show that day things it could not have known.
 */
async function refuseEarlierDay(db: Kysely<Database>, asOf: string): Promise<void> {
  const latest = await db
    .selectFrom('recon_runs')
    .select((eb) => eb.fn.max('as_of').as('as_of'))
    .where('status', '=', 'finished')
    .executeTakeFirst();
  const latestAsOf = latest?.as_of == null ? undefined : String(latest.as_of);
  if (latestAsOf !== undefined && latestAsOf > asOf) {
    throw new ReconError(
      'USAGE',
      `open-items: --as-of ${asOf} is before ${latestAsOf}, the as-of day of the latest finished run; the state of an earlier day is not kept (each run's own open-items.csv is)`,
    );
  }
}
