import type { CsvRecord } from './csv-records.ts';
import type { Selectable } from 'kysely';
import { LEDGER_FIELDS, type LedgerColumns } from './ledger-columns.ts';
import { isQrFamily, isSourceType, type SourceType } from '../vocabulary.ts';
import type { LedgerEntryTable } from './ledger.table.ts';
import { money } from '../money.ts';
import { readDate, readDecimal, readInteger, unstorable, type DecimalRules, type ValueOutcome } from './values.ts';

/**
 * One ledger row, read and normalised (dates `YYYY-MM-DD`, amounts two-decimal text, currency
 * upper case): what is stored, before file and line are added.
 */
export type LedgerEntryInput = Omit<Selectable<LedgerEntryTable>, 'source_file' | 'source_line' | 'ingested_at' | 'merchant'>;

export type LedgerRowOutcome =
  | { ok: true; entry: LedgerEntryInput }
  | { ok: false; line: number; entryId: string | null; reason: string };

const ENTRY_TYPES = new Set(['charge', 'refund', 'void']);
const CURRENCY = /^[A-Z]{3}$/;
// numeric(14, 2) in ledger_entries
const AMOUNT: DecimalRules = { maxIntegerDigits: 12, sign: 'positive' };
const FEE: DecimalRules = { maxIntegerDigits: 12, sign: 'any' };

/**
 * Reads one data record of a ledger file: the rules of docs/reference.md §3.1, and the reasons a clerk
 * reads in rejected.csv. Pure: no I/O, never throws. Most rows of a large file are taken by
 * ledger-row-bytes.ts instead, which must agree with this reader on every row it takes.
 */
export function readLedgerRow(record: CsvRecord, columns: LedgerColumns): LedgerRowOutcome {
  const { fields } = record;
  const { index } = columns;
  const entryId = valueAt(fields, index.entry_id);
  if (record.malformed) return rejection(record, entryId, record.malformed);
  if (fields.length !== columns.width) {
    const hint = fields.length > columns.width ? ' (a value with a comma but no quotes around it?)' : '';
    return rejection(record, entryId, `the row has ${fields.length} values but the header has ${columns.width}${hint}`);
  }
  // values that cannot be stored at all: the reason names them, and nothing else is said about the row
  const unstorable = unstorableValues(fields, columns);
  if (unstorable.length) {
    const problems = unstorable.map((u) => u.problem).join('; ');
    return rejection(record, unstorable[0]!.column === 'entry_id' ? '' : entryId, problems);
  }

  const problems: string[] = [];
  if (!entryId) problems.push('entry_id is missing');

  const entryTypeText = valueAt(fields, index.entry_type);
  const entryType = entryTypeText.toLowerCase();
  if (!ENTRY_TYPES.has(entryType)) problems.push(entryType ? `entry_type '${entryTypeText}' is not charge, refund or void` : 'entry_type is missing');

  const sourceTypeText = valueAt(fields, index.source_type);
  const sourceType = sourceTypeText.toLowerCase();
  if (!isSourceType(sourceType)) {
    problems.push(sourceType ? `source_type '${sourceTypeText}' is not card, qr, wechat, alipay or unionpay` : 'source_type is missing');
  }

  const currencyText = valueAt(fields, index.currency);
  const currency = currencyText.toUpperCase();
  if (!CURRENCY.test(currency)) problems.push(currency ? `currency '${currencyText}' is not a 3-letter ISO code` : 'currency is missing');

  const transactionDate = required(fields, index.transaction_date, 'transaction_date', problems, readDate);
  const entryDateText = valueAt(fields, index.entry_date);
  const entryDate = entryDateText ? accept(readDate(entryDateText, 'entry_date'), problems) : null;
  const amount = required(fields, index.amount, 'amount', problems, readAmount);
  const mdr = optional(fields, index.mdr, 'mdr', problems, readFee);
  const vat = optional(fields, index.vat, 'vat', problems, readFee);
  const netAmount = optional(fields, index.net_amount, 'net_amount', problems, readFee);
  const convfeeAmount = optional(fields, index.convfee_amount, 'convfee_amount', problems, readFee);
  const convfeeVat = optional(fields, index.convfee_vat, 'convfee_vat', problems, readFee);
  const capturedAmount = optional(fields, index.captured_amount, 'captured_amount', problems, readAmount);
  if (capturedAmount !== null) {
    const problem = capturedProblem(capturedAmount, amount, entryType);
    if (problem) problems.push(problem);
  }
  const termText = valueAt(fields, index.term);
  let term: number | null = null;
  if (termText) {
    const outcome = readInteger(termText, 'term', 999);
    if (outcome.ok) term = outcome.value;
    else problems.push(outcome.problem);
  }

  const chargeId = valueAt(fields, index.charge_id) || null;
  const orderId = valueAt(fields, index.order_id) || null;
  const referenceOrder = valueAt(fields, index.reference_order) || null;
  // The QR family is inquired by charge or order id; everything else by charge id or reference.
  if (isQrFamily(sourceType)) {
    if (!chargeId && !orderId) problems.push(`a ${sourceType} row needs a charge_id or an order_id`);
  } else if (!chargeId && !referenceOrder) {
    problems.push('the row needs a charge_id or a reference_order');
  }

  if (problems.length || transactionDate === null || amount === null) return rejection(record, entryId, problems.join('; '));
  return {
    ok: true,
    entry: {
      entry_id: entryId,
      entry_type: entryType as LedgerEntryInput['entry_type'],
      reference_order: referenceOrder,
      charge_id: chargeId,
      order_id: orderId,
      transaction_date: transactionDate,
      entry_date: entryDate ?? transactionDate,
      source_type: sourceType as SourceType,
      currency,
      amount,
      mdr,
      vat,
      net_amount: netAmount,
      refund_id: valueAt(fields, index.refund_id) || null,
      mid: valueAt(fields, index.mid) || null,
      plan_id: valueAt(fields, index.plan_id) || null,
      ipan_mode: valueAt(fields, index.ipan_mode) || null,
      term,
      supplier_no: valueAt(fields, index.supplier_no) || null,
      model_no: valueAt(fields, index.model_no) || null,
      product_type: valueAt(fields, index.product_type) || null,
      convfee_amount: convfeeAmount,
      convfee_vat: convfeeVat,
      captured_amount: capturedAmount,
    },
  };
}

/**
 * A partial capture settles part of what a charge authorised (KBank's Settle Transaction, type
 * `partial`): so only a charge row has one, and it is at most the charge's amount. A refund or
 * void books its own amount; a captured amount there, or one above the charge's, is a mistake in
 * the books, and guessing which figure is right would hide it.
 */
function capturedProblem(captured: string, amount: string | null, entryType: string): string | undefined {
  if (entryType === 'refund' || entryType === 'void') return `captured_amount is only for charge rows (a ${entryType} row books its own amount)`;
  if (amount !== null && money(captured).greaterThan(money(amount))) return `captured_amount ${captured} is more than amount ${amount}`;
  return undefined;
}

/**
 * What makes the row's values unstorable (unreadable text, control characters, over-long
 * values), naming the columns. Columns the ledger does not map
 * are never stored, so they are not looked at.
 */
function unstorableValues(fields: readonly string[], columns: LedgerColumns): { column: string; problem: string }[] {
  const found: { column: string; problem: string }[] = [];
  for (const column of LEDGER_FIELDS) {
    const at = columns.index[column];
    if (at < 0) continue;
    const problem = unstorable(fields[at]!, column);
    if (problem) found.push({ column, problem });
  }
  return found;
}

function valueAt(fields: readonly string[], at: number): string {
  if (at < 0) return '';
  const value = fields[at] ?? '';
  // trim() allocates; most values have nothing to trim
  return value.length && (value.charCodeAt(0) <= 32 || value.charCodeAt(value.length - 1) <= 32) ? value.trim() : value;
}

function rejection(record: CsvRecord, entryId: string, reason: string): LedgerRowOutcome {
  return { ok: false, line: record.line, entryId: entryId || null, reason };
}

type Reader = (text: string, column: string) => ValueOutcome;

function required(fields: readonly string[], at: number, column: string, problems: string[], read: Reader): string | null {
  const text = valueAt(fields, at);
  if (!text) {
    problems.push(`${column} is missing`);
    return null;
  }
  return accept(read(text, column), problems);
}

function optional(fields: readonly string[], at: number, column: string, problems: string[], read: Reader): string | null {
  const text = valueAt(fields, at);
  return text ? accept(read(text, column), problems) : null;
}

function accept(outcome: ValueOutcome, problems: string[]): string | null {
  if (outcome.ok) return outcome.value;
  problems.push(outcome.problem);
  return null;
}

function readAmount(text: string, column: string): ValueOutcome {
  return readDecimal(text, column, AMOUNT);
}

function readFee(text: string, column: string): ValueOutcome {
  return readDecimal(text, column, FEE);
}
