import { readFile } from 'node:fs/promises';
import { ReconError } from '../errors.ts';
import { checkInputFile } from '../input-file.ts';

/** The ledger's canonical columns (docs/reference.md §3.1), in the order rows are copied and hashed. */
export const LEDGER_FIELDS = [
  'entry_id',
  'entry_type',
  'reference_order',
  'charge_id',
  'order_id',
  'transaction_date',
  'entry_date',
  'source_type',
  'currency',
  'amount',
  'mdr',
  'vat',
  'net_amount',
  'refund_id',
  'mid',
  'plan_id',
  'ipan_mode',
  'term',
  'supplier_no',
  'model_no',
  'product_type',
  'convfee_amount',
  'convfee_vat',
  'captured_amount',
] as const;
export type LedgerField = (typeof LEDGER_FIELDS)[number];

const REQUIRED: readonly LedgerField[] = ['entry_id', 'entry_type', 'transaction_date', 'source_type', 'currency', 'amount'];
/** Every row names its charge by one of these; a file without any of them cannot be used. */
const ANY_ID: readonly LedgerField[] = ['reference_order', 'charge_id', 'order_id'];

/** `{ "canonical_name": "Their Header" }` from `--ledger-map`. */
export type LedgerMap = Record<string, string>;

/** Where each canonical field sits in a file's records (-1: not in the file). */
export interface LedgerColumns {
  readonly index: Readonly<Record<LedgerField, number>>;
  /** Number of header fields: a record with another count is misaligned. */
  readonly width: number;
}

export type HeaderOutcome = { ok: true; columns: LedgerColumns } | { ok: false; problem: string };

/**
 * Matches a header row to the canonical columns: names compared case-insensitively after
 * trimming, a `--ledger-map` entry taking precedence over a same-named column. A column that is
 * read and appears twice is refused: which of the two holds the figures is anyone's guess.
 */
export function mapLedgerHeader(header: readonly string[], ledgerMap: LedgerMap = {}): HeaderOutcome {
  const positions = new Map<string, number[]>();
  header.forEach((name, i) => {
    const key = normalise(name);
    if (key) positions.set(key, [...(positions.get(key) ?? []), i]);
  });
  const index = {} as Record<LedgerField, number>;
  for (const field of LEDGER_FIELDS) {
    const mapped = ledgerMap[field];
    const at = positions.get(mapped !== undefined ? normalise(mapped) : field);
    if (at && at.length > 1) {
      return { ok: false, problem: `the column '${header[at[0]!]!.trim()}' appears ${at.length} times in the header (columns ${at.map((i) => i + 1).join(', ')}); which one holds ${field} cannot be told` };
    }
    index[field] = at?.[0] ?? -1;
  }
  const missing = REQUIRED.filter((field) => index[field] === -1).map((field) => describe(field, ledgerMap));
  if (ANY_ID.every((field) => index[field] === -1)) missing.push(ANY_ID.map((f) => describe(f, ledgerMap)).join(' or '));
  if (missing.length) return { ok: false, problem: `missing required column(s) ${missing.join(', ')}` };
  return { ok: true, columns: { index, width: header.length } };
}

function describe(field: LedgerField, ledgerMap: LedgerMap): string {
  const mapped = ledgerMap[field];
  return mapped !== undefined ? `${field} (mapped to '${mapped}')` : field;
}

function normalise(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * Reads a `--ledger-map` file; anything but a regular file holding a JSON object of non-empty
 * strings, each header used once, is a usage error.
 */
export async function loadLedgerMap(file: string): Promise<LedgerMap> {
  await checkInputFile(file, 'the ledger map');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReconError('INPUT', `${file}: cannot read the ledger map (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ReconError('INPUT', `${file}: the ledger map is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ReconError('INPUT', `${file}: the ledger map must be a JSON object like {"entry_id": "Their Header"}`);
  }
  const known = new Set<string>(LEDGER_FIELDS);
  const map: LedgerMap = {};
  // Headers are matched trimmed and case-insensitively, so that is how two are "the same".
  const fieldOfHeader = new Map<string, string>();
  for (const [field, header] of Object.entries(parsed)) {
    if (!known.has(field)) throw new ReconError('INPUT', `${file}: '${field}' is not a ledger column (expected one of ${LEDGER_FIELDS.join(', ')})`);
    if (typeof header !== 'string') throw new ReconError('INPUT', `${file}: the header for '${field}' must be a string`);
    if (!normalise(header)) throw new ReconError('INPUT', `${file}: the header for '${field}' is empty`);
    const other = fieldOfHeader.get(normalise(header));
    if (other) throw new ReconError('INPUT', `${file}: '${other}' and '${field}' are both mapped to '${header}'`);
    fieldOfHeader.set(normalise(header), field);
    map[field] = header;
  }
  return map;
}
