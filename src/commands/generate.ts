import { resolve } from 'node:path';
import { isoDateFlag, parseFlags, requireFlag, wholeNumberFlag, type Command } from './command.ts';
import { shiftDate, todayIn } from '../dates.ts';
import { EXIT, ReconError } from '../errors.ts';
import { formatCount } from '../report/human-summary.ts';
import { writeSample } from '../sample/write-sample.ts';

/** A year of samples at most; 100,000 charges a day is more than any test of scale needs. */
const MAX_DAYS = { min: 1, max: 366 };
export const CHARGES_PER_DAY = { min: 1, max: 100_000 };
/** The sample's PRNG takes a 32-bit seed. */
const SEED = { min: 0, max: 0xffff_ffff };

export const generateCommand: Command = {
  name: 'generate',
  help: `Usage: kpgw-recon generate --out DIR [--from D] [--days N] [--per-day N] [--seed N]
                          [--timeline [--late-refunds SHARE]]

Writes the kind of sample the demo uses, laid out as a nightly inbox, for trying 'run' by hand:
  DIR/ledger/orders.csv        the merchant ledger (with three rows that will be rejected)
  DIR/plans/Installment Plan Report_09902_….csv
  DIR/fees.json                the fee schedule
  DIR/gateway.jsonl            what the gateway knows, for 'kpgw-recon simulator --data'
Card, QR, WeChat, Alipay, UnionPay and installment charges, refunds and voids, with a
sprinkling of every kind of mismatch. The same seed gives the same data.

Flags:
  --out DIR       folder to write (required)
  --from D        first transaction date (default: --days days before today in RECON_TZ)
  --days N        number of days, 1 to 366 (default 3)
  --per-day N     charges per day, 1 to 100000 (default 1000)
  --seed N        random seed (default 20261129)
  --timeline      write each charge's history in gateway.jsonl (records with "_from" dates)
                  instead of its final answer, for playing several nights against the
                  simulator's clock (--today, POST /__clock): a card charge of day D is
                  Captured on D, Settled on D+1 with its fee figures all zero, and has its
                  figures on D+2; a Thai QR or WeChat charge is Authorized on D, Settled on
                  D+1. The ledger is the same as without it.
  --late-refunds SHARE
                  with --timeline: share (0 to 1, default 0.02) of the clean card, Alipay and
                  UnionPay charges without refunds that are refunded at the gateway only, with
                  no ledger row, 2 to 28 days later (a quarter of them fail first with OBAVL
                  and go through the next day)

Then, for example:
  npx kpgw-recon simulator --data DIR/gateway.jsonl --port 8787 &
  KPGW_BASE_URL=http://127.0.0.1:8787 KPGW_SECRET_KEY=skey_test_simulator KPGW_RATE_LIMIT_RPS=200 \\
    npx kpgw-recon run --from D --to D2 --ledger DIR/ledger --plans DIR/plans --fees DIR/fees.json`,
  async run(args, ctx) {
    const flags = parseFlags('generate', args, {
      out: { type: 'string' },
      from: { type: 'string' },
      days: { type: 'string' },
      'per-day': { type: 'string' },
      seed: { type: 'string' },
      timeline: { type: 'boolean' },
      'late-refunds': { type: 'string' },
    });
    const out = resolve(requireFlag('generate', 'out', flags.out));
    const days = wholeNumberFlag('generate', 'days', flags.days, 3, MAX_DAYS);
    const perDay = wholeNumberFlag('generate', 'per-day', flags['per-day'], 1000, CHARGES_PER_DAY);
    const seed = wholeNumberFlag('generate', 'seed', flags.seed, 20261129, SEED);
    const from = isoDateFlag('generate', 'from', flags.from) ?? shiftDate(todayIn(ctx.config.tz), -days);
    const lateRefunds = shareFlag('late-refunds', flags['late-refunds']);
    if (lateRefunds !== undefined && !flags.timeline) throw new ReconError('USAGE', 'generate: --late-refunds needs --timeline');
    const timeline = flags.timeline ? { lateRefunds } : undefined;
    const sample = await writeSample(out, { from, days, chargesPerDay: perDay, seed, timeline });
    const { expected, ledger, badLedgerRows, gateway, lateRefunds: gatewayOnlyRefunds } = sample.data;
    const history = timeline
      ? ` with their gateway histories (${formatCount(gateway.length)} dated records, ${formatCount(gatewayOnlyRefunds.length)} refunds made only at the gateway)`
      : '';
    const rows = `${formatCount(ledger.length + badLedgerRows.length)} ledger rows, ${badLedgerRows.length} of them unreadable on purpose`;
    ctx.stdout.write(`wrote ${formatCount(expected.size)} charges (${rows})${history} for ${from}..${shiftDate(from, days - 1)} to ${out}\n`);
    return EXIT.ok;
  },
};

/** A share from 0 to 1 (`0.05`), or `undefined` when not given. */
function shareFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const share = Number(value);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(value) || share > 1) throw new ReconError('USAGE', `generate: --${flag} must be a share from 0 to 1, got '${value}'`);
  return share;
}
