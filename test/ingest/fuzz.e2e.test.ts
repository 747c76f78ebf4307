import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconError } from '../../src/errors.ts';
import { csvRecords } from '../../src/ingest/csv-records.ts';
import { NotUtf8Error, sniffEncoding, unreadablePart, utf8Chunks, type TextEncoding } from '../../src/ingest/decode.ts';
import { mapLedgerHeader } from '../../src/ingest/ledger-columns.ts';
import { ingestLedgers } from '../../src/ingest/ledger-ingest.ts';
import { createLogger } from '../../src/log.ts';
import { buildCharge, type SampleCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { seededRandom } from './helpers.ts';

/**
 * docs/reference.md §3.1, "nothing is silently dropped", whatever the bytes: thousands of seeded random
 * byte-level mutations of a valid ledger, each ingested. A mutant either is a file that cannot
 * be used at all (a ReconError INPUT: exit 2) or goes in, every data record stored, unchanged,
 * replaced or rejected with file, line and reason; never anything else (an "internal error").
 * A failing mutant is reproduced by its seed.
 */

const MUTANTS = 2_000;
/**
 * Mutants ingested one after another from an empty table (the first file takes the bulk-load
 * path). Only `ledger_entries` outlives an ingest, so runs are independent: each goes into a
 * database of its own, side by side, with the outcomes of ingesting them all in one row.
 */
const RUN = 500;
const databases = await Promise.all(Array.from({ length: MUTANTS / RUN }, () => createTestDatabase()));
// thousands of small transactions: these throw-away databases need not wait for each to reach the disk
for (const { db, url } of databases) await sql`ALTER DATABASE ${sql.id(new URL(url).pathname.slice(1))} SET synchronous_commit = off`.execute(db);
const dir = await mkdtemp(join(tmpdir(), 'kpgw-fuzz-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const logger = createLogger({ level: 'silent' });

const charges: SampleCharge[] = [
  ...Array.from({ length: 12 }, (_, i) => buildCharge({ key: `fz-${i}`, date: '2026-07-01', amount: `${100 + i}.50` })),
  buildCharge({ key: 'fz-qr', date: '2026-07-01', amount: '55.00', sourceType: 'qr' }),
  buildCharge({ key: 'fz-wechat', date: '2026-07-01', amount: '66.00', sourceType: 'wechat' }),
  buildCharge({ key: 'fz-refund', date: '2026-07-01', amount: '500.00', refunds: ['100.00', '50.25'] }),
  buildCharge({ key: 'fz-void', date: '2026-07-01', amount: '77.00', voided: true }),
  buildCharge({
    key: 'fz-inst',
    date: '2026-07-01',
    amount: '12000.00',
    installment: { planId: '1001', ipanMode: 'M', term: 10, supplierNo: 'SUP1', modelNo: 'M-1', productType: '003' },
  }),
];
const THAI_ROW = 'E-thai,charge,ใบสั่งซื้อ-๑,chrg_test_thai,,01/07/2569,,card,thb,"1,234.50",,,,,,,,,,,,,';
const BASE_TEXT = `${ledgerCsv(charges.flatMap((c) => c.ledger)).trimEnd()}\n${THAI_ROW}\n`;
const BASE = { utf8: Buffer.from(BASE_TEXT, 'utf8'), win874: iconv.encode(BASE_TEXT, 'win874') };

type Random = () => number;
type Mutation = (bytes: Buffer, next: Random) => Buffer;

const int = (next: Random, below: number): number => Math.floor(next() * below);
const pick = <T,>(next: Random, list: readonly T[]): T => list[int(next, list.length)]!;
const at = (bytes: Buffer, next: Random): number => int(next, bytes.length + 1);
const insert = (bytes: Buffer, pos: number, what: Buffer): Buffer => Buffer.concat([bytes.subarray(0, pos), what, bytes.subarray(pos)]);
/** A position just after a comma or quote: the start of a value, where mutations hurt most. */
function valueStart(bytes: Buffer, next: Random): number {
  const starts: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x2c || bytes[i] === 0x0a) starts.push(i + 1);
  return starts.length ? pick(next, starts) : at(bytes, next);
}

const THAI_UTF8 = Buffer.from('ภาษาไทย', 'utf8');
const THAI_WIN874 = iconv.encode('ภาษาไทย', 'win874');
const UNDEFINED_WIN874 = [0x81, 0x8d, 0x9f, 0xdb, 0xdc, 0xdd, 0xde, 0xfc, 0xfd, 0xfe, 0xff];
const SPECIALS = ['"', ',', '\n', '\r', '\r\n', '""', '\\', '\\.', '\t', ' ', '\u00a0', '\ufeff', '=', '-', '@', '+'];

const MUTATIONS: Record<string, Mutation> = {
  flip: (b, next) => {
    if (!b.length) return b;
    const copy = Buffer.from(b);
    copy[int(next, copy.length)] = int(next, 256);
    return copy;
  },
  insertRandom: (b, next) => insert(b, at(b, next), Buffer.from(Array.from({ length: 1 + int(next, 4) }, () => int(next, 256)))),
  delete: (b, next) => {
    const start = at(b, next);
    return Buffer.concat([b.subarray(0, start), b.subarray(start + 1 + int(next, 8))]);
  },
  control: (b, next) => insert(b, valueStart(b, next) + int(next, 3), Buffer.from([pick(next, [0x00, 0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f])])),
  special: (b, next) => insert(b, at(b, next), Buffer.from(pick(next, SPECIALS), 'utf8')),
  undefinedWin874: (b, next) => insert(b, at(b, next), Buffer.from([pick(next, UNDEFINED_WIN874)])),
  thaiUtf8: (b, next) => insert(b, valueStart(b, next), THAI_UTF8),
  thaiWin874: (b, next) => insert(b, valueStart(b, next), THAI_WIN874),
  cutUtf8: (b, next) => insert(b, at(b, next), THAI_UTF8.subarray(0, 1 + int(next, 2))),
  hugeField: (b, next) => insert(b, valueStart(b, next), Buffer.from(pick(next, ['x', '9', '0', 'ก', ' ']).repeat(200 + int(next, 3000)), 'utf8')),
  /** Long text that does not compress: a btree entry of it would not fit in an index page. */
  hugeRandom: (b, next) => insert(b, valueStart(b, next), Buffer.from(Array.from({ length: 2000 + int(next, 4000) }, () => String.fromCharCode(0x61 + int(next, 26))).join(''))),
  hugeQuoted: (b, next) => insert(b, valueStart(b, next), Buffer.from(`"${'y'.repeat(250 + int(next, 50))}"`)),
  year: (b, next) => {
    const text = b.toString('latin1');
    const dates = [...text.matchAll(/\d{4}-\d\d-\d\d|\d\d\/\d\d\/\d{4}/g)];
    if (!dates.length) return b;
    const date = pick(next, dates);
    const year = pick(next, ['0000', '0001', '1899', '1900', '2200', '2201', '2442', '2443', '2743', '2744', '9999', String(int(next, 10000)).padStart(4, '0')]);
    const replaced = date[0].includes('-') ? `${year}${date[0].slice(4)}` : `${date[0].slice(0, 6)}${year}`;
    return Buffer.from(text.slice(0, date.index) + replaced + text.slice(date.index! + date[0].length), 'latin1');
  },
  bigNumber: (b, next) => insert(b, valueStart(b, next), Buffer.from(pick(next, ['9'.repeat(13), '9'.repeat(12) + '.99', '-' + '9'.repeat(12), '2147483648', '99999999999', '1e308', 'NaN', 'Infinity', '0.001']))),
  cut: (b, next) => b.subarray(0, at(b, next)),
  /** Breaks the name of the first column, entry_id: the file cannot be used. */
  header: (b, next) => insert(b, 1 + int(next, 7), Buffer.from(pick(next, ['\n', '"', ',', '\u00ff', 'x']), 'latin1')),
  duplicateRow: (b, next) => {
    const lines = b.toString('latin1').split('\n');
    if (lines.length < 3) return b;
    const row = lines[1 + int(next, lines.length - 2)]!;
    lines.splice(1 + int(next, lines.length - 1), 0, next() < 0.5 ? row : row.replace(/\.\d\d/, '.01'));
    return Buffer.from(lines.join('\n'), 'latin1');
  },
};
const NAMES = Object.keys(MUTATIONS);

interface Mutant {
  bytes: Buffer;
  applied: string[];
}

/** Mutant number `seed`: 1 to 4 random mutations, or the ones named, of the UTF-8 or Windows-874 ledger. */
function mutant(seed: number, names?: readonly (keyof typeof MUTATIONS)[]): Mutant {
  const next = seededRandom(seed);
  let bytes = next() < 0.7 ? BASE.utf8 : BASE.win874;
  // most mutants get entry ids of their own, so that their rows reach ledger_entries rather than
  // being repeats of another file's; the rest replace or repeat the rows stored before them
  if (next() < 0.8) bytes = Buffer.from(bytes.toString('latin1').replace(/^E-/gm, `M${seed}-`), 'latin1');
  const applied = names ? [...names] : Array.from({ length: 1 + int(next, 4) }, () => pick(next, NAMES));
  for (const name of applied) bytes = MUTATIONS[name]!(bytes, next);
  return { bytes, applied };
}

/** Mutants per `ingestLedgers` call: a call costs a connection and session tables, a file far less. */
const BATCH = 250;

interface Outcomes {
  input: number;
  clean: number;
  withRejections: number;
  reasons: Set<string>;
}

/**
 * Ingests one batch of mutant files in one call. A file that cannot be used at all ends the
 * call with an INPUT error naming it (files before it are committed): that file is counted and
 * the call made again without it, the rows the failed call stored taken out first so that the
 * accounting below stays exact.
 */
async function ingestBatch({ db, url }: TestDatabase, files: string[], context: Map<string, string>, outcomes: Outcomes): Promise<void> {
  while (files.length) {
    let report;
    try {
      report = await ingestLedgers({ url }, files, { logger });
    } catch (error) {
      if (!(error instanceof ReconError && error.code === 'INPUT') && files.length > 1) {
        // name the mutant: each file of the batch alone
        await db.deleteFrom('ledger_entries').where('source_file', 'in', files).execute();
        for (const file of files) await ingestBatch({ db, url }, [file], context, outcomes);
        return;
      }
      const where = `${files.map((f) => context.get(f)).join('; ')}: ${(error as Error).message}`;
      expect(error, where).toBeInstanceOf(ReconError);
      expect((error as ReconError).code, where).toBe('INPUT');
      const failed = files.find((f) => (error as Error).message.startsWith(`${f}:`));
      expect(failed, where).toBeDefined();
      outcomes.input++;
      await db.deleteFrom('ledger_entries').where('source_file', 'in', files).execute();
      files = files.filter((f) => f !== failed);
      continue;
    }
    const batch = files.map((f) => context.get(f)).join('; ');
    // every stored row was inserted or replaced by the file it names (an unchanged one keeps its old file)
    const { n } = await db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<string>().as('n')).where('source_file', 'in', files).executeTakeFirstOrThrow();
    expect(Number(n), batch).toBe(report.inserted + report.replaced);
    expect(report.inserted + report.replaced + report.unchanged + report.rejected.length, batch).toBe(report.rows);
    let records = 0;
    for (const file of files) records += (await inspect(file)).records;
    expect(report.rows, batch).toBe(records);
    const seen = new Set<string>();
    for (const rejected of report.rejected) {
      const where = `${context.get(rejected.file)}: line ${rejected.line}`;
      expect(files, where).toContain(rejected.file);
      expect(Number.isInteger(rejected.line) && rejected.line >= 2, where).toBe(true);
      expect(seen.has(`${rejected.file}:${rejected.line}`), `${where} rejected twice`).toBe(false);
      seen.add(`${rejected.file}:${rejected.line}`);
      expect(rejected.reason.trim(), where).not.toBe('');
      outcomes.reasons.add(rejected.reason);
    }
    for (const file of files) {
      if (report.rejected.some((r) => r.file === file)) outcomes.withRejections++;
      else outcomes.clean++;
    }
    return;
  }
}

/** Mutants `from`..`to`, in batches, into an empty `ledger_entries`. */
async function ingestRun(database: TestDatabase, from: number, to: number, outcomes: Outcomes): Promise<void> {
  for (let first = from; first <= to; first += BATCH) {
    const context = new Map<string, string>();
    for (let seed = first; seed < first + BATCH && seed <= to; seed++) {
      const { bytes, applied } = mutant(seed);
      const file = join(dir, `mutant-${seed}.csv`);
      await writeFile(file, bytes);
      context.set(file, `seed ${seed} (${applied.join(', ')})`);
    }
    // a file the call would end early on goes alone, so that the others are not ingested twice
    const usable: string[] = [];
    for (const file of context.keys()) {
      if ((await inspect(file)).headerUsable) usable.push(file);
      else await ingestBatch(database, [file], context, outcomes);
    }
    await ingestBatch(database, usable, context, outcomes);
    for (const file of context.keys()) await rm(file);
  }
}

describe('ingesting randomly mutated ledgers', () => {
  it(`${MUTANTS} mutants: each is an INPUT error or goes in with every record accounted for`, async () => {
    const outcomes: Outcomes = { input: 0, clean: 0, withRejections: 0, reasons: new Set() };
    await Promise.all(databases.map((database, i) => ingestRun(database, i * RUN + 1, (i + 1) * RUN, outcomes)));
    // the mutations must reach all three outcomes and every class of bad row, or the test proves little
    expect(outcomes.input).toBeGreaterThan(MUTANTS / 100);
    expect(outcomes.clean).toBeGreaterThan(MUTANTS / 100);
    expect(outcomes.withRejections).toBeGreaterThan(MUTANTS / 3);
    const reasons = [...outcomes.reasons];
    for (const kind of [
      /contains a control character \(NUL\)/,
      /characters long \(at most 255\)/,
      /is not between the years 1900 and 2200/,
      /is too large/,
      /is not valid Windows-874 text \(byte 0x/,
      /is not valid UTF-8 text \(byte 0x/,
      /is UTF-8 text in a file read as Windows-874/,
      /is Windows-874 text in a file read as UTF-8/,
      /a quoted value is never closed/,
      /values but the header has/,
      /duplicate entry_id/,
    ]) {
      expect(reasons.some((r) => kind.test(r)), `no rejection matched ${kind}`).toBe(true);
    }
  });
});

// the CLI's runs reconcile every ledger entry of the date range: a database without the fuzzing's
const database = await createTestDatabase();

describe('the real CLI on mutated ledgers', () => {
  const KEY = 'skey_test_Fz8fW1vN5rT7yU3iO9pA';
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({ secretKey: KEY, charges: charges.map((c) => c.gateway) });
  });
  afterAll(async () => simulator?.close());

  it.each([
    [1, ['control', 'year'], 1],
    [2, ['hugeField', 'undefinedWin874', 'bigNumber'], 1],
    [3, ['thaiWin874', 'duplicateRow', 'cut'], 1],
    [4, ['special', 'flip', 'cutUtf8'], 1],
    [5, ['header', 'control'], 2],
  ] as const)('mutant %i (%j) ends with exit %i, never 3, and no stack trace', async (seed, names, exit) => {
    const file = join(dir, `cli-mutant-${seed}.csv`);
    await writeFile(file, mutant(seed, names).bytes);
    const result = await runCli(['run', '--from', '2026-07-01', '--ledger', file, '--out', join(dir, `cli-report-${seed}`)], {
      env: { DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_RATE_LIMIT_RPS: '500', LOG_LEVEL: 'warn' },
    });
    expect(result.code, result.stderr).toBe(exit);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toMatch(/internal error/i);
    if (result.code === 2) expect(humanLines(result.stderr)).toEqual([expect.stringMatching(new RegExp(`^kpgw-recon: ${file}: `))]);
  });
});

/**
 * The file as the CSV reader splits it: its data records (the header is not one), and whether
 * its header row looks usable. The guess only spares the test calls that an unusable file
 * would end early; the outcome of each file is still asserted from ingestLedgers itself.
 */
async function inspect(file: string): Promise<{ records: number; headerUsable: boolean }> {
  const read = async (encoding: TextEncoding) => {
    let records = -1;
    let headerUsable = false;
    for await (const batch of csvRecords(utf8Chunks(file, encoding))) {
      const header = records === -1 ? batch[0] : undefined;
      if (header) headerUsable = !header.malformed && !unreadablePart(header.raw) && mapLedgerHeader(header.fields).ok;
      records += batch.length;
    }
    return { records, headerUsable };
  };
  try {
    return await read(await sniffEncoding(file));
  } catch (error) {
    if (!(error instanceof NotUtf8Error)) throw error;
    return read('win874');
  }
}
