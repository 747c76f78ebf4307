import { ReconError } from '../errors.ts';
import { checkMid } from './merchant-id.ts';
import { normaliseBaseUrl } from './base-url.ts';

/** Everything kpgw-recon reads from the environment (docs/reference.md §2), read once and frozen. */
export interface Config {
  /** Unset: an embedded PostgreSQL in {@link embeddedDataDir}. */
  readonly databaseUrl: string | undefined;
  /** `.data/postgres`; the demo keeps a database of its own beside it. */
  readonly embeddedDataDir: string;
  readonly kpgw: GatewayConfig;
  readonly tz: string;
  readonly inbox: string;
  readonly reportsDir: string;
  readonly logLevel: string;
  readonly recon: OpenItemsConfig;
  /**
   * docs/reference.md §5.7: the merchant whose data a command works on, by its mid; its tables are a
   * schema of their own. '' (the default): the single merchant of a plain set-up.
   */
  readonly merchant: string;
  /**
   * v3 `RECON_MID`: the merchant id of a single-merchant set-up, used where a ledger row has no
   * `mid` (the VAT schedule's and the export's `mid`); unset: none.
   */
  readonly mid: string | undefined;
  readonly worker: WorkerConfig;
}

/** Scheduled reconciliation as graphile-worker jobs (docs/reference.md §1.16). */
export interface WorkerConfig {
  /** `RECON_MERCHANTS`: the merchants file; unset: `worker` and `enqueue` refuse to start. */
  readonly merchantsFile: string | undefined;
  /** How many missed nights back a starting worker catches up. */
  readonly catchUpDays: number;
  /** Merchant-nights one worker process runs at once (each merchant's own one at a time). */
  readonly concurrency: number;
}

/** How open items are followed (docs/reference.md §2, §4.21). */
export interface OpenItemsConfig {
  /** Days a booked refund may be unknown to the gateway before it is an error. */
  readonly refundGraceDays: number;
  /** Ages in days at which a final charge is asked again; empty: never. */
  readonly recheckAges: readonly number[];
  /** After this many days an open charge is no longer revisited by itself (`stale`). */
  readonly openMaxDays: number;
  /** Most charges one `nightly` asks about; `undefined`: no budget. */
  readonly maxRequests: number | undefined;
  /** v3: hours a charge KBank notified may be missing from the ledger before it is `NOT_IN_LEDGER`. */
  readonly notifyGraceHours: number;
}

export interface GatewayConfig {
  readonly baseUrl: string;
  /** Sent as `x-api-key`; never logged or stored. Empty when not configured. */
  readonly secretKey: string;
  readonly rateLimitRps: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
}

export const SANDBOX_BASE_URL = 'https://dev-kpaymentgateway-services.kasikornbank.com';

const DEFAULTS = {
  KPGW_BASE_URL: SANDBOX_BASE_URL,
  KPGW_RATE_LIMIT_RPS: '5',
  KPGW_CONCURRENCY: '4',
  KPGW_TIMEOUT_MS: '20000',
  KPGW_MAX_RETRIES: '5',
  RECON_TZ: 'Asia/Bangkok',
  RECON_INBOX: './inbox',
  RECON_REPORTS_DIR: './reports',
  LOG_LEVEL: 'info',
  RECON_REFUND_GRACE_DAYS: '3',
  RECON_OPEN_MAX_DAYS: '60',
  RECON_NOTIFY_GRACE_HOURS: '24',
  RECON_CATCH_UP_DAYS: '3',
  RECON_WORKER_CONCURRENCY: '4',
} satisfies Record<string, string>;

type Env = Record<string, string | undefined>;

/**
 * Bounds of the numeric settings: wide enough for any real gateway contract or test rig, narrow
 * enough that a typo (an extra zero, milliseconds given as seconds) is caught at start.
 */
export const LIMITS = {
  KPGW_RATE_LIMIT_RPS: { min: 0, max: 10_000 }, // > min: a cap of 0 would never send anything
  KPGW_CONCURRENCY: { min: 1, max: 256 },
  // Below 100 ms no real request can finish; above 10 minutes a hung gateway stalls the night.
  KPGW_TIMEOUT_MS: { min: 100, max: 600_000 },
  KPGW_MAX_RETRIES: { min: 0, max: 20 },
  RECON_REFUND_GRACE_DAYS: { min: 0, max: 365 },
  RECON_RECHECK_AGES: { min: 1, max: 3650 },
  RECON_OPEN_MAX_DAYS: { min: 1, max: 3650 },
  RECON_MAX_REQUESTS: { min: 1, max: 10_000_000 },
  // Beyond 30 days a charge the books lack would go unreported for a whole month's close.
  RECON_NOTIFY_GRACE_HOURS: { min: 0, max: 720 },
  // 0: no catch-up; beyond two months the inbox's ledger exports would be long gone anyway.
  RECON_CATCH_UP_DAYS: { min: 0, max: 60 },
  RECON_WORKER_CONCURRENCY: { min: 1, max: 64 },
  // Seconds, as libpq reads it; 0 (libpq: wait for ever) would let a silent server hang a run.
  PGCONNECT_TIMEOUT: { min: 1, max: 600 },
} satisfies Record<string, { min: number; max: number }>;
type Limited = keyof typeof LIMITS;

/** pino's levels, and `silent`. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function loadConfig(env: Env = process.env): Config {
  const get = (name: keyof typeof DEFAULTS): string => {
    const value = env[name]?.trim();
    return value ? value : DEFAULTS[name];
  };
  const tz = get('RECON_TZ');
  if (!isValidTimeZone(tz)) throw new ReconError('CONFIG', `RECON_TZ '${tz}' is not a known time zone`);
  // Read where each connection is made (pg-options.ts); checked here so a bad one stops the start.
  pgConnectTimeoutMs(env);
  return Object.freeze({
    databaseUrl: databaseUrl(env.DATABASE_URL),
    embeddedDataDir: '.data/postgres',
    kpgw: Object.freeze({
      baseUrl: normaliseBaseUrl(get('KPGW_BASE_URL')),
      secretKey: env.KPGW_SECRET_KEY?.trim() ?? '',
      rateLimitRps: positiveNumber('KPGW_RATE_LIMIT_RPS', get('KPGW_RATE_LIMIT_RPS')),
      concurrency: wholeNumber('KPGW_CONCURRENCY', get('KPGW_CONCURRENCY')),
      timeoutMs: wholeNumber('KPGW_TIMEOUT_MS', get('KPGW_TIMEOUT_MS')),
      maxRetries: wholeNumber('KPGW_MAX_RETRIES', get('KPGW_MAX_RETRIES')),
    }),
    tz,
    inbox: get('RECON_INBOX'),
    reportsDir: get('RECON_REPORTS_DIR'),
    logLevel: logLevel(get('LOG_LEVEL')),
    recon: Object.freeze({
      refundGraceDays: wholeNumber('RECON_REFUND_GRACE_DAYS', get('RECON_REFUND_GRACE_DAYS')),
      recheckAges: Object.freeze(recheckAges(env.RECON_RECHECK_AGES)),
      openMaxDays: wholeNumber('RECON_OPEN_MAX_DAYS', get('RECON_OPEN_MAX_DAYS')),
      maxRequests: env.RECON_MAX_REQUESTS?.trim() ? wholeNumber('RECON_MAX_REQUESTS', env.RECON_MAX_REQUESTS.trim()) : undefined,
      notifyGraceHours: wholeNumber('RECON_NOTIFY_GRACE_HOURS', get('RECON_NOTIFY_GRACE_HOURS')),
    }),
    merchant: env.RECON_MERCHANT?.trim() ? checkMid(env.RECON_MERCHANT.trim(), 'RECON_MERCHANT') : '',
    mid: env.RECON_MID?.trim() ? checkMid(env.RECON_MID.trim(), 'RECON_MID') : undefined,
    worker: Object.freeze({
      merchantsFile: env.RECON_MERCHANTS?.trim() || undefined,
      catchUpDays: wholeNumber('RECON_CATCH_UP_DAYS', get('RECON_CATCH_UP_DAYS')),
      concurrency: wholeNumber('RECON_WORKER_CONCURRENCY', get('RECON_WORKER_CONCURRENCY')),
    }),
  });
}

/**
 * The key is required only by commands that talk to the gateway. It goes into an HTTP header,
 * where a space, a line break or a non-ASCII byte makes every request fail; the message never
 * shows the key.
 */
export function requireSecretKey(config: Config): void {
  const key = config.kpgw.secretKey;
  if (!key) {
    throw new ReconError('CONFIG', 'KPGW_SECRET_KEY is not set (the merchant secret key, skey_…)');
  }
  if (!SECRET_KEY.test(key)) {
    throw new ReconError('CONFIG', 'KPGW_SECRET_KEY is not a secret key: expected skey_prod_… or skey_test_…, printable ASCII without spaces');
  }
}

/** `skey_prod_` or `skey_test_`, then visible ASCII only (what a header value may carry). */
const SECRET_KEY = /^skey_(prod|test)_[\x21-\x7e]+$/;

/** Unset or empty: the embedded server. The message never shows the URL (it may hold a password). */
function databaseUrl(text: string | undefined): string | undefined {
  const url = text?.trim();
  if (!url) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new ReconError('CONFIG', 'DATABASE_URL is not a PostgreSQL URL (postgres://user@host:5432/database)');
  }
  return url;
}

function logLevel(text: string): string {
  const level = text.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ReconError('CONFIG', `LOG_LEVEL '${text}' is not a log level (one of ${LOG_LEVELS.join(', ')})`);
  }
  return level;
}

/** `RECON_RECHECK_AGES`: unset means the default `7,30`; set but empty means never. */
function recheckAges(text: string | undefined): number[] {
  if (text === undefined) return [7, 30];
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
  return [...new Set(parts.map((part) => wholeNumber('RECON_RECHECK_AGES', part)))].sort((a, b) => a - b);
}

/** How long connecting to PostgreSQL may take: `PGCONNECT_TIMEOUT` seconds, else 10. */
export function pgConnectTimeoutMs(env: Env = process.env): number {
  const text = env.PGCONNECT_TIMEOUT?.trim();
  return (text ? wholeNumber('PGCONNECT_TIMEOUT', text) : 10) * 1000;
}

/** A rate: a plain decimal above the minimum (exclusive) and at most the maximum. */
function positiveNumber(name: Limited, text: string): number {
  const { min, max } = LIMITS[name];
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > min && value <= max)) {
    throw new ReconError('CONFIG', `${name} must be a number above ${min} and at most ${max}, got '${text}'`);
  }
  return value;
}

/** Digits only (no `1e3`, `0x10` or `5.0`), within the setting's bounds. */
function wholeNumber(name: Limited, text: string): number {
  const { min, max } = LIMITS[name];
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ReconError('CONFIG', `${name} must be a whole number from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The merchant id a ledger row without its own `mid` belongs to: the merchant of a merchants-file
 * connection (`RECON_MERCHANT`), else `RECON_MID`; `undefined` when neither is set.
 */
export function merchantMid(config: Pick<Config, 'merchant' | 'mid'>): string | undefined {
  return config.merchant || config.mid;
}
