import { todayIn } from '../dates.ts';
import { EXIT } from '../errors.ts';
import { enqueueNights } from '../worker/enqueue.ts';
import type { Command } from './command.ts';
import { nightFlag, parseFlags, requireFlag } from './command.ts';

export const enqueueCommand: Command = {
  name: 'enqueue',
  help: `Usage: kpgw-recon enqueue --date D [--mid M]

Queues the merchant-night D (YYYY-MM-DD) of one merchant (--mid) or of every merchant in
RECON_MERCHANTS, for the workers to run (kpgw-recon worker): to replay a night, or to catch up
further back than RECON_CATCH_UP_DAYS. A night already queued and not yet started is queued once.

Flags:
  --date D    the night to reconcile (required)
  --mid M     only this merchant (default: every merchant of the file)

Environment:
  RECON_MERCHANTS   the merchants file (required)
  DATABASE_URL      required: the PostgreSQL the workers share

Exit codes: 0 queued; 2 usage or configuration error; 3 database unreachable.`,
  async run(args, { config, logger, stdout }) {
    const flags = parseFlags('enqueue', args, { date: { type: 'string' }, mid: { type: 'string' } });
    const date = requireFlag('enqueue', 'date', nightFlag('enqueue', flags.date, todayIn(config.tz)));
    await enqueueNights(config, logger, { date, mid: flags.mid }, (key, jobId) => stdout.write(`queued ${key} (job ${jobId})\n`));
    return EXIT.ok;
  },
};
