import { ReconError } from './errors.ts';

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
      baseUrl: get('KPGW_BASE_URL').replace(/\/+$/, ''),
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
  });
}

/** The key is required only by commands that talk to the gateway. */
export function requireSecretKey(config: Config): void {
  if (!config.kpgw.secretKey) {
    throw new ReconError('CONFIG', 'KPGW_SECRET_KEY is not set (the merchant secret key, skey_…)');
  }
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
