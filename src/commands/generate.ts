import { resolve } from 'node:path';
import { isoDateFlag, parseFlags, requireFlag, wholeNumberFlag, type Command } from './command.ts';
import { shiftDate, todayIn } from '../dates.ts';
import { EXIT } from '../errors.ts';
import { writeSample } from '../sample/write-sample.ts';

/** A year of samples at most; 100,000 charges a day is more than any test of scale needs. */
const MAX_DAYS = { min: 1, max: 366 };
export const CHARGES_PER_DAY = { min: 1, max: 100_000 };
/** The sample's PRNG takes a 32-bit seed. */
const SEED = { min: 0, max: 0xffff_ffff };

export const generateCommand: Command = {
  name: 'generate',
  summary: 'write a realistic sample inbox (ledger, plan report, fees, gateway data) to a folder',
  help: `Usage: kpgw-recon generate --out DIR [--from D] [--days N] [--per-day N] [--seed N]

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
    });
    const out = resolve(requireFlag('generate', 'out', flags.out));
    const days = wholeNumberFlag('generate', 'days', flags.days, 3, MAX_DAYS);
    const perDay = wholeNumberFlag('generate', 'per-day', flags['per-day'], 1000, CHARGES_PER_DAY);
    const seed = wholeNumberFlag('generate', 'seed', flags.seed, 20261129, SEED);
    const from = isoDateFlag('generate', 'from', flags.from) ?? shiftDate(todayIn(ctx.config.tz), -days);
    const sample = await writeSample(out, { from, days, chargesPerDay: perDay, seed });
    ctx.stdout.write(
      `wrote ${sample.data.expected.size} charges (${sample.data.ledger.length} ledger rows) for ${from}..${shiftDate(from, days - 1)} to ${out}\n`,
    );
    return EXIT.ok;
  },
};
