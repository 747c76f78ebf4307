import { ReconError } from './errors.ts';
import { normaliseBaseUrl } from './gateway/base-url.ts';

/** Everything kpgw-recon reads from the environment (contract §2), read once and frozen. */
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
}

/** v2: how open items are followed (contract §2, §8). */
export interface OpenItemsConfig {
  /** Days a booked refund may be unknown to the gateway before it is an error. */
  readonly refundGraceDays: number;
  /** Ages in days at which a final charge is asked again; empty: never. */
  readonly recheckAges: readonly number[];
  /** After this many days an open charge is no longer revisited by itself (`stale`). */
  readonly openMaxDays: number;
  /** Most charges one `nightly` asks about; `undefined`: no budget. */
  readonly maxRequests: number | undefined;
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
} satisfies Record<string, string>;

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const get = (name: keyof typeof DEFAULTS): string => {
    const value = env[name]?.trim();
    return value ? value : DEFAULTS[name];
  };
  const tz = get('RECON_TZ');
  if (!isValidTimeZone(tz)) throw new ReconError('CONFIG', `RECON_TZ '${tz}' is not a known time zone`);
  return Object.freeze({
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    embeddedDataDir: '.data/postgres',
    kpgw: Object.freeze({
      baseUrl: normaliseBaseUrl(get('KPGW_BASE_URL')),
      secretKey: env.KPGW_SECRET_KEY?.trim() ?? '',
      rateLimitRps: positiveNumber('KPGW_RATE_LIMIT_RPS', get('KPGW_RATE_LIMIT_RPS')),
      concurrency: positiveInteger('KPGW_CONCURRENCY', get('KPGW_CONCURRENCY')),
      timeoutMs: positiveInteger('KPGW_TIMEOUT_MS', get('KPGW_TIMEOUT_MS')),
      maxRetries: positiveInteger('KPGW_MAX_RETRIES', get('KPGW_MAX_RETRIES'), 0),
    }),
    tz,
    inbox: get('RECON_INBOX'),
    reportsDir: get('RECON_REPORTS_DIR'),
    logLevel: get('LOG_LEVEL'),
    recon: Object.freeze({
      refundGraceDays: positiveInteger('RECON_REFUND_GRACE_DAYS', get('RECON_REFUND_GRACE_DAYS'), 0),
      recheckAges: Object.freeze(recheckAges(env.RECON_RECHECK_AGES)),
      openMaxDays: positiveInteger('RECON_OPEN_MAX_DAYS', get('RECON_OPEN_MAX_DAYS')),
      maxRequests: env.RECON_MAX_REQUESTS?.trim() ? positiveInteger('RECON_MAX_REQUESTS', env.RECON_MAX_REQUESTS.trim()) : undefined,
    }),
  });
}

/** The key is required only by commands that talk to the gateway. */
export function requireSecretKey(config: Config): void {
  if (!config.kpgw.secretKey) {
    throw new ReconError('CONFIG', 'KPGW_SECRET_KEY is not set (the merchant secret key, skey_…)');
  }
}

/** `RECON_RECHECK_AGES`: unset means the default `7,30`; set but empty means never. */
function recheckAges(text: string | undefined): number[] {
  if (text === undefined) return [7, 30];
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
  return [...new Set(parts.map((part) => positiveInteger('RECON_RECHECK_AGES', part)))].sort((a, b) => a - b);
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ReconError('CONFIG', `${name} must be a positive number, got '${text}'`);
  }
  return value;
}

function positiveInteger(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new ReconError('CONFIG', `${name} must be a whole number ≥ ${min}, got '${text}'`);
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
