import { basename } from 'node:path';
import type { Insertable } from 'kysely';
import type { CsvRecord } from './csv-records.ts';
import type { InstallmentPlanTable } from './plan.table.ts';
import { readDate, readDecimal, readInteger, unstorable, type DecimalRules } from './values.ts';

/** The Merchant Portal's Installment Plan Report columns, exactly (docs/reference.md §3.2). */
export const PLAN_COLUMNS = [
  'SeqNo.', 'PromotionName', 'ValidFrom', 'ValidTo', 'IPanMode', 'ProductName', 'SupplierNo.',
  'ProductType', 'ModelNo.', 'PlanID', 'ModelName', 'MinPrice', 'MaxPrice', 'PaymentTerm', 'CardType',
] as const;
type PlanColumn = (typeof PLAN_COLUMNS)[number];

export type PlanColumns = { readonly index: Readonly<Record<PlanColumn, number>>; readonly width: number };

/** Header names compared case-insensitively after trimming, as for ledgers; all are required. */
export function mapPlanHeader(header: readonly string[]): { ok: true; columns: PlanColumns } | { ok: false; problem: string } {
  const position = new Map(header.map((name, i) => [name.trim().toLowerCase(), i] as const).reverse());
  const index = {} as Record<PlanColumn, number>;
  const missing: string[] = [];
  for (const column of PLAN_COLUMNS) {
    index[column] = position.get(column.toLowerCase()) ?? -1;
    if (index[column] === -1) missing.push(column);
  }
  if (missing.length) return { ok: false, problem: `missing required column(s) ${missing.join(', ')}` };
  return { ok: true, columns: { index, width: header.length } };
}

export interface PlanReportName {
  supplierNo: string;
  /** `YYYY-MM-DD` */
  periodFrom: string;
  periodTo: string;
}

const REPORT_NAME = /^Installment Plan Report_(.+)_(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.csv$/i;

/** `Installment Plan Report_<SupplierNo>_<DDMMYY><DDMMYY>.csv`; two-digit years are 20YY. */
export function readPlanReportName(path: string): { ok: true; name: PlanReportName } | { ok: false; problem: string } {
  const match = REPORT_NAME.exec(basename(path));
  const expected = "a name like 'Installment Plan Report_<SupplierNo>_<DDMMYY><DDMMYY>.csv'";
  if (!match) return { ok: false, problem: `not ${expected}` };
  const [, supplierNo, d1, m1, y1, d2, m2, y2] = match as unknown as string[];
  const from = readDate(`${d1}/${m1}/20${y1}`, 'the period start');
  const to = readDate(`${d2}/${m2}/20${y2}`, 'the period end');
  if (!from.ok) return { ok: false, problem: `${from.problem} in the file name (${expected})` };
  if (!to.ok) return { ok: false, problem: `${to.problem} in the file name (${expected})` };
  if (from.value > to.value) return { ok: false, problem: `the period in the file name ends before it starts (${from.value} > ${to.value})` };
  return { ok: true, name: { supplierNo: supplierNo!.trim(), periodFrom: from.value, periodTo: to.value } };
}

export type PlanRow = Omit<Insertable<InstallmentPlanTable>, 'source_line' | 'report_id'>;
export type PlanRowOutcome = { ok: true; plan: PlanRow } | { ok: false; line: number; reason: string };

// numeric(11, 2) in installment_plans
const PRICE: DecimalRules = { maxIntegerDigits: 9, sign: 'any' };
const IPAN_MODE = /^0[1-4]$/;

/** Reads one row of a report for `supplierNo`. Pure: no I/O, never throws. */
export function readPlanRow(record: CsvRecord, columns: PlanColumns, supplierNo: string): PlanRowOutcome {
  const reject = (reason: string): PlanRowOutcome => ({ ok: false, line: record.line, reason });
  if (record.malformed) return reject(record.malformed);
  if (record.fields.length !== columns.width) {
    return reject(`the row has ${record.fields.length} values but the header has ${columns.width}`);
  }
  const unstorableValues = PLAN_COLUMNS.map((column) => unstorable(record.fields[columns.index[column]] ?? '', column)).filter(Boolean);
  if (unstorableValues.length) return reject(unstorableValues.join('; '));
  const text = (column: PlanColumn): string => (record.fields[columns.index[column]] ?? '').trim();
  const problems: string[] = [];
  const present = (column: PlanColumn): string => {
    const value = text(column);
    if (!value) problems.push(`${column} is missing`);
    return value;
  };
  const integer = (column: PlanColumn, max: number): number => {
    const value = present(column);
    if (!value) return 0;
    const outcome = readInteger(value, column, max);
    if (!outcome.ok) problems.push(outcome.problem);
    return outcome.ok ? outcome.value : 0;
  };
  const date = (column: PlanColumn): string => {
    const value = present(column);
    if (!value) return '';
    const outcome = readDate(value, column);
    if (!outcome.ok) problems.push(outcome.problem);
    return outcome.ok ? outcome.value : '';
  };
  const price = (column: PlanColumn): string => {
    const value = present(column);
    if (!value) return '';
    const outcome = readDecimal(value, column, PRICE);
    if (!outcome.ok) problems.push(outcome.problem);
    return outcome.ok ? outcome.value : '';
  };

  const seqNo = integer('SeqNo.', 2_147_483_647);
  const rowSupplier = present('SupplierNo.');
  if (rowSupplier && rowSupplier !== supplierNo) {
    problems.push(`SupplierNo. '${rowSupplier}' is not the supplier '${supplierNo}' named in the file name`);
  }
  // Excel drops leading zeros from `01`; the mode is always two digits, so restore them.
  const ipanModeText = present('IPanMode');
  const ipanMode = /^\d$/.test(ipanModeText) ? `0${ipanModeText}` : ipanModeText;
  if (ipanModeText && !IPAN_MODE.test(ipanMode)) problems.push(`IPanMode '${ipanModeText}' is not 01, 02, 03 or 04`);
  const validFrom = date('ValidFrom');
  const validTo = date('ValidTo');
  if (validFrom && validTo && validFrom > validTo) problems.push(`ValidTo ${validTo} is before ValidFrom ${validFrom}`);
  const minPrice = price('MinPrice');
  const maxPrice = price('MaxPrice');
  const plan: PlanRow = {
    supplier_no: supplierNo,
    seq_no: seqNo,
    promotion_name: present('PromotionName'),
    valid_from: validFrom,
    valid_to: validTo,
    ipan_mode: ipanMode,
    product_name: text('ProductName'),
    product_type: integer('ProductType', 999),
    model_no: present('ModelNo.'),
    plan_id: integer('PlanID', 999),
    model_name: text('ModelName'),
    min_price: minPrice,
    max_price: maxPrice,
    payment_term: integer('PaymentTerm', 99),
    card_type: present('CardType').toUpperCase(),
  };
  if (problems.length) return reject(problems.join('; '));
  return { ok: true, plan };
}
