import { money, parseMoney, type Money } from '../money.ts';
import { isCalendarDate } from '../vocabulary.ts';
import { JsonNumber } from './json-body.ts';

/**
 * A charge as the Inquiry Transaction endpoints return it (guide §6.1.2, §6.4.1), read
 * tolerantly: the guide's table and its samples disagree on names and types, and integrations
 * in the field see more variants (see `api-digest.md`). Amounts are exact decimals; strings the
 * gateway leaves out or sends empty are `null`; anything not read here stays in `extra`.
 */
export interface GatewayCharge {
  readonly id: string;
  /** `"charge"` in every sample. */
  readonly object: string;
  /** QR charges only (`order_…`). */
  readonly orderId: string | null;
  readonly amount: Money;
  /** ISO code, upper-cased. */
  readonly currency: string;
  /** As sent: unknown and misspelt states (`VOID`, `Auhtorized`) are kept, see {@link canonicalState}. */
  readonly transactionState: string;
  /** `success` or `fail` (kept as sent). */
  readonly status: string;
  readonly source: GatewaySource | null;
  /** The raw 17-digit `YYYYMMDDHHmmssSSS` (Bangkok time), `''` when missing. */
  readonly created: string;
  /** `YYYY-MM-DD` from the first 8 digits of `created`; `null` when they are not a date. */
  readonly createdDate: string | null;
  readonly referenceOrder: string | null;
  readonly approvalCode: string | null;
  readonly failureCode: string | null;
  readonly failureMessage: string | null;
  /** `null` when absent or neither a boolean nor `"true"`/`"false"`. */
  readonly livemode: boolean | null;
  /** `null` before settlement (and for QR charges, whose inquiry has no settlement). */
  readonly settlement: GatewaySettlement | null;
  /** In the order the gateway lists them; empty when there is none. */
  readonly refunds: readonly GatewayRefund[];
  /** The convenience fee (Visa/Mastercard only); `null` when the answer has no `convfee` object. */
  readonly convfee: GatewayConvfee | null;
  /** The merchant's own references `ref_1`…`ref_3`, as sent. */
  readonly ref1: string | null;
  readonly ref2: string | null;
  readonly ref3: string | null;
  /** Top-level fields not read above (`description`, `dcc_data`, `metadata`, …). */
  readonly extra: Readonly<Record<string, unknown>>;
  /** Fields that were present but could not be read (e.g. `settlement_info.orig_mdr: "n/a"`). */
  readonly warnings: readonly string[];
}

export interface GatewaySource {
  readonly id: string | null;
  /** `card`, `qr`, `redirect`, … */
  readonly object: string | null;
  /** `visa`, `mastercard`, `ThaiQR`, `Alipay`, … as sent. */
  readonly brand: string | null;
  readonly issuerBank: string | null;
  /** `441770*****1827`. */
  readonly cardMasking: string | null;
}

/**
 * The figures `settlement_info` and each `refund_info` entry share, all Decimal(14,4); a field
 * that is absent is `null`, a `0.0` is zero (§6.1.5).
 */
export interface GatewayFigures {
  readonly bahtAmount: Money | null;
  readonly exchangeRate: Money | null;
  readonly origAmount: Money | null;
  readonly origMdr: Money | null;
  readonly origVat: Money | null;
  readonly origNetAmount: Money | null;
  /**
   * Figures that were present but not a number (`"<b>9</b>"`, `1e400`), by field name, as the
   * text received: each is a finding of the comparison it belongs to, never a silent skip.
   * Absent when every figure present was read.
   */
  readonly unreadable?: Readonly<Record<string, string>>;
}

/** `settlement_info`. */
export interface GatewaySettlement extends GatewayFigures {
  /** `settle_amount` (every sample) or `settlement_amount` (the guide's tables). */
  readonly settleAmount: Money | null;
}

/** One entry of `refund_info`. */
export interface GatewayRefund extends GatewayFigures {
  readonly refundId: string | null;
  /** `refund_amount`, else `settle_amount` (the Inquiry sample), else `orig_amount` (docs/reference.md §4.13). */
  readonly amount: Money | null;
  /** e.g. `OBAVL` (insufficient balance): the refund did not go through. */
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  /** Raw 17 digits, `null` when missing. */
  readonly refundDate: string | null;
}

/** `convfee`: each figure `null` when absent or unreadable. */
export interface GatewayConvfee {
  /** `convfee_amount`. */
  readonly amount: Money | null;
  /** `convfee_vat_amount`. */
  readonly vat: Money | null;
  /** `net_amount`. */
  readonly net: Money | null;
}

/** The guide's error body (§9): `{"object": "error", "code": "…", "message": "…"}`. */
export interface GatewayErrorBody {
  readonly code: string;
  readonly message: string;
}

export type ParseChargeResult =
  | { readonly ok: true; readonly charge: GatewayCharge }
  | { readonly ok: false; readonly reason: string };

type Json = Record<string, unknown>;

const READ_FIELDS = new Set([
  'id', 'object', 'order_id', 'amount', 'currency', 'transaction_state', 'status', 'source',
  'created', 'reference_order', 'approval_code', 'failure_code', 'failure_message', 'livemode',
  'settlement_info', 'refund_info', 'convfee', 'ref_1', 'ref_2', 'ref_3',
]);

/**
 * Reads an Inquiry (or Void/Settle/Refund) answer. Only a missing `id` or an unreadable `amount`
 * make it unusable; everything else degrades to `null` plus a warning, because one odd field must
 * not hide a charge from reconciliation.
 */
export function parseCharge(body: unknown): ParseChargeResult {
  if (!isObject(body)) return { ok: false, reason: 'response body is not a JSON object' };
  const id = text(body.id);
  if (!id) return { ok: false, reason: 'response has no charge id' };
  const amount = readGatewayDecimal(body.amount);
  if (!amount) return { ok: false, reason: `charge ${id} has no readable amount (${shown(body.amount)})` };

  const warnings: string[] = [];
  const created = text(body.created) ?? '';
  const extra: Json = {};
  // A parsed body is a plain object: `for…in` sees its own keys, without an array of pairs.
  for (const key in body) if (!READ_FIELDS.has(key)) extra[key] = body[key];

  const charge: GatewayCharge = {
    id,
    object: text(body.object) ?? '',
    orderId: text(body.order_id),
    amount,
    currency: (text(body.currency) ?? '').toUpperCase(),
    transactionState: text(body.transaction_state) ?? '',
    status: text(body.status) ?? '',
    source: parseSource(body.source),
    created,
    createdDate: dateOf17(created),
    referenceOrder: text(body.reference_order),
    approvalCode: text(body.approval_code),
    failureCode: text(body.failure_code),
    failureMessage: text(body.failure_message),
    livemode: parseBoolean(body.livemode),
    settlement: parseSettlement(body.settlement_info, warnings),
    refunds: parseRefunds(body.refund_info, warnings),
    convfee: parseConvfee(body.convfee, warnings),
    ref1: text(body.ref_1),
    ref2: text(body.ref_2),
    ref3: text(body.ref_3),
    extra,
    warnings,
  };
  return { ok: true, charge };
}

/** The error body of §9, or `null` when the body is something else (a charge, HTML, …). */
export function parseGatewayError(body: unknown): GatewayErrorBody | null {
  if (!isObject(body)) return null;
  const code = text(body.code);
  // A charge never has `code`; an error body is marked `object: "error"` in every sample.
  if (!code || (body.object !== 'error' && body.id !== undefined)) return null;
  return { code, message: text(body.message) ?? '' };
}

const STATE_SPELLINGS: Readonly<Record<string, string>> = {
  // §6.4.2's QR void answers "VOID" where the card API says "Voided".
  void: 'Voided',
  // A misspelling seen in copies of KBank's own documentation.
  auhtorized: 'Authorized',
};

/**
 * The state in the card API's spelling (`VOID` → `Voided`, `Auhtorized` → `Authorized`,
 * `settled` → `Settled`); unknown states are returned unchanged.
 */
export function canonicalState(state: string): string {
  // Nearly every answer spells its state as the guide does; reconciliation asks for each charge.
  if (EXACT_STATES.has(state)) return state;
  const key = state.trim().toLowerCase();
  return STATE_SPELLINGS[key] ?? STATES_BY_KEY.get(key) ?? state;
}

/**
 * The states of §6.1.2, in lifecycle order, and `Refund Fail`, which the guide names only in the
 * Refund API's error table (`Pending_state`: "Validate Transaction status Refund Fail").
 */
export const KNOWN_STATES = [
  'Initialize', 'Pre-Authorized', 'Authorized', 'Declined', 'Reversed', 'Voided', 'Captured',
  'Settled', 'Refund Sent', 'Refunded', 'Partial Refund', 'Refund Fail',
] as const;
const EXACT_STATES: ReadonlySet<string> = new Set(KNOWN_STATES);
const STATES_BY_KEY: ReadonlyMap<string, string> = new Map(KNOWN_STATES.map((s) => [s.toLowerCase(), s]));

function parseSource(value: unknown): GatewaySource | null {
  if (!isObject(value)) return null;
  return {
    id: text(value.id),
    object: text(value.object),
    brand: text(value.brand),
    issuerBank: text(value.issuer_bank),
    cardMasking: text(value.card_masking),
  };
}

function parseSettlement(value: unknown, warnings: string[]): GatewaySettlement | null {
  // Field reports show `""` and lists as well as the documented object or null.
  const info = Array.isArray(value) ? value.find(isObject) : value;
  if (!isObject(info) || Object.keys(info).length === 0) {
    if (value !== null && value !== undefined && value !== '' && !Array.isArray(value)) {
      warnings.push(`settlement_info: unreadable ${shown(value)}`);
    }
    return null;
  }
  const where = 'settlement_info';
  // The guide's tables say settlement_amount; every sample sends settle_amount.
  const settleAmount = decimal(info, 'settle_amount', where, warnings) ?? decimal(info, 'settlement_amount', where, warnings);
  return { settleAmount, ...figures(info, where, warnings, ['settle_amount', 'settlement_amount']) };
}

/**
 * `refund_info` entries (docs/reference.md §4.13): an empty entry (`{}`, `""`, `null`, or an object with
 * neither an amount nor a refund id) is not a refund; gateways send `refund_info: {}` or `[{}]`
 * for a charge that was never refunded, and such an entry must not become a refund of unknown
 * amount.
 */
const REFUND_AMOUNT_FIELDS = ['refund_amount', 'settle_amount', 'orig_amount'];

function parseRefunds(value: unknown, warnings: string[]): GatewayRefund[] {
  if (value === null || value === undefined || value === '') return [];
  // Documented as a list; a single object is taken as one refund.
  const entries = Array.isArray(value) ? value : [value];
  const refunds: GatewayRefund[] = [];
  entries.forEach((entry, index) => {
    const where = `refund_info[${index}]`;
    if (entry === null || entry === '') return;
    if (!isObject(entry)) {
      warnings.push(`${where}: unreadable ${shown(entry)}`);
      return;
    }
    const amount = (field: string) => decimal(entry, field, where, warnings);
    const refundId = text(entry.refund_id);
    // §6.1.2's table says refund_amount; its sample repeats settle_amount instead.
    const refundAmount = amount('refund_amount') ?? amount('settle_amount') ?? amount('orig_amount');
    // An entry with no id and no amount at all is not a refund (`{}`); one whose amount is there but
    // unreadable is a refund of unknown amount, never silently dropped.
    const amountGiven = REFUND_AMOUNT_FIELDS.some((field) => entry[field] !== undefined && entry[field] !== null && entry[field] !== '');
    if (!refundId && !amountGiven) return;
    refunds.push({
      refundId,
      amount: refundAmount,
      ...figures(entry, where, warnings, []),
      errorCode: text(entry.error_code),
      errorMessage: text(entry.error_message),
      refundDate: text(entry.refund_date),
    });
  });
  return refunds;
}

function parseConvfee(value: unknown, warnings: string[]): GatewayConvfee | null {
  if (value === null || value === undefined || value === '') return null;
  if (!isObject(value)) {
    warnings.push(`convfee: unreadable ${shown(value)}`);
    return null;
  }
  const amount = (field: string) => decimal(value, field, 'convfee', warnings);
  return { amount: amount('convfee_amount'), vat: amount('convfee_vat_amount'), net: amount('net_amount') };
}

/** The shared figures, and the text of every figure in `checked` or of them that is not a number. */
function figures(object: Json, where: string, warnings: string[], checked: readonly string[]): GatewayFigures {
  const read: GatewayFigures = {
    bahtAmount: decimal(object, 'baht_amount', where, warnings),
    exchangeRate: decimal(object, 'exchange_rate', where, warnings),
    origAmount: decimal(object, 'orig_amount', where, warnings),
    origMdr: decimal(object, 'orig_mdr', where, warnings),
    origVat: decimal(object, 'orig_vat', where, warnings),
    origNetAmount: decimal(object, 'orig_net_amount', where, warnings),
  };
  // Nearly every answer's figures all read: the fields are looked at again only when one did not.
  if (warnings.length === 0 || !warnings.some((w) => w.startsWith(`${where}.`))) return read;
  let unreadable: Record<string, string> | undefined;
  for (const field of [...checked, ...FIGURE_FIELDS]) {
    const value = object[field];
    if (value === undefined || value === null || value === '' || readGatewayDecimal(value)) continue;
    (unreadable ??= {})[field] = receivedText(value);
  }
  return unreadable ? { ...read, unreadable } : read;
}

const FIGURE_FIELDS = ['baht_amount', 'exchange_rate', 'orig_amount', 'orig_mdr', 'orig_vat', 'orig_net_amount'];

/** An unreadable figure as it was sent (a string's own text, a number's digits), cut at 100 characters. */
function receivedText(value: unknown): string {
  const text = typeof value === 'string' ? value : value instanceof JsonNumber ? value.text : (JSON.stringify(value) ?? String(value));
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

/**
 * Gateway figures must be in [0, 10^12) (at most 12 integer digits): our columns are
 * numeric(16,4) and numeric(14,2), so anything larger could only end the run with a numeric
 * overflow later. The guide's amounts, fees and rates are never negative, and a negative one
 * could overflow too: `difference` (gateway minus ledger) of -999999999999 against a ledger
 * amount of 1.00 has 13 integer digits.
 */
const DECIMAL_LIMIT = money('1000000000000');

/**
 * A decimal figure: a JSON number (as its text, see {@link JsonNumber}) or a numeric string,
 * written as a plain decimal (`digits[.digits]`) below {@link DECIMAL_LIMIT}; anything else
 * (`1e400`, 40 digits, `"NaN"`, `-5`) is `undefined`. A plain JS number (a body read back from
 * the database) is taken by its shortest text.
 */
export function readGatewayDecimal(value: unknown): Money | undefined {
  const parsed = parseMoney(value instanceof JsonNumber ? value.text : value);
  return parsed && !parsed.lessThan(0) && parsed.lessThan(DECIMAL_LIMIT) ? parsed : undefined;
}

/** A decimal field: `null` when absent, `null` and a warning when present but unreadable. */
function decimal(object: Json, field: string, where: string, warnings: string[]): Money | null {
  const value = object[field];
  if (value === undefined || value === null || value === '') return null;
  const parsed = readGatewayDecimal(value);
  if (!parsed) warnings.push(`${where}.${field}: not a number ${shown(value)}`);
  return parsed ?? null;
}

/** A value for a message: numbers as the gateway wrote them, long values cut short. */
function shown(value: unknown): string {
  const json = value instanceof JsonNumber ? value.text : (JSON.stringify(value) ?? String(value));
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** A string field; numbers (a numeric `reference_order`) become their text; `""` is absent. */
function text(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function parseBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return null;
}

/** `YYYYMMDD…` → `YYYY-MM-DD` when the first 8 digits are a real calendar date. */
export function dateOf17(created: string): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})/.exec(created);
  if (!match || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) return null;
  return `${match[1]}-${match[2]}-${match[3]}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
