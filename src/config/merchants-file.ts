import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCronItem } from 'graphile-worker';
import { LIMITS, type Config } from './config.ts';
import { isMid, midIdentity, MID_RULE } from './merchant-id.ts';
import { ReconError, isReconError } from '../errors.ts';
import { normaliseBaseUrl } from './base-url.ts';
import { checkInputFile } from '../input-file.ts';

/** One merchant of the merchants file (docs/reference.md §1.18), checked and with its defaults filled in. */
export interface Merchant {
  readonly mid: string;
  readonly name: string | undefined;
  /**
   * The name of the environment variable that holds the merchant's secret key. Merchants that
   * share it share one rate limit and one concurrency (the lowest of theirs), and their nights
   * run one at a time, whichever worker takes them.
   */
  readonly keyEnv: string;
  readonly inbox: string;
  readonly reportsDir: string;
  readonly rateLimitRps: number;
  readonly concurrency: number;
  /** A cron expression in `RECON_TZ`. */
  readonly schedule: string;
  readonly baseUrl: string;
  readonly maxRequests: number | undefined;
}

export const DEFAULT_SCHEDULE = '30 2 * * *';

const FIELDS = ['mid', 'name', 'key_env', 'inbox', 'reports_dir', 'rate_limit_rps', 'concurrency', 'schedule', 'base_url', 'max_requests'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What a secret key looks like; it never belongs in the file, and is never echoed. */
const LOOKS_LIKE_KEY = /skey_/i;
/** Anything shaped like a key in a message about the file (a JSON parser quotes the text it chokes on). */
const KEY_SHAPED = /skey_[\x21-\x7e]*/gi;

/**
 * Reads and checks `RECON_MERCHANTS`. JSON (docs/reference.md §1.18): no parser to add, and a
 * file that machines write as readily as people. Anything wrong is one line naming the merchant
 * and the field (exit 2); a value that looks like a secret key is refused without being shown.
 */
export async function loadMerchants(config: Config): Promise<Merchant[]> {
  const path = config.worker.merchantsFile;
  if (!path) throw new ReconError('CONFIG', 'RECON_MERCHANTS is not set (the path of the merchants file, see docs/reference.md)');
  // A FIFO or a device is refused before it is opened: reading one waits, or reads, for ever.
  await checkInputFile(path, 'the merchants file').catch((error: unknown) => {
    throw isReconError(error) ? new ReconError('CONFIG', `RECON_MERCHANTS ${error.message}`, { cause: error }) : error;
  });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReconError('CONFIG', `RECON_MERCHANTS ${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const problem = (error as Error).message.replace(KEY_SHAPED, '[REDACTED]');
    throw new ReconError('CONFIG', `RECON_MERCHANTS ${path} is not JSON: ${problem}`, { cause: error });
  }
  return parseMerchants(json, config, path);
}

export function parseMerchants(json: unknown, config: Config, path: string): Merchant[] {
  const list = isObject(json) ? json.merchants : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ReconError('CONFIG', `RECON_MERCHANTS ${path}: expected { "merchants": [ … ] } with at least one merchant`);
  }
  const merchants = list.map((entry, i) => parseMerchant(entry, i, config, path));
  const byIdentity = new Map<string, Merchant>();
  for (const m of merchants) {
    const other = byIdentity.get(midIdentity(m.mid));
    if (other?.mid === m.mid) throw new ReconError('CONFIG', `RECON_MERCHANTS ${path}: merchant ${m.mid} is listed twice`);
    if (other) {
      throw new ReconError(
        'CONFIG',
        `RECON_MERCHANTS ${path}: merchants ${other.mid} and ${m.mid} are the same mid once letter case, '-' and '_' are ignored; each merchant's data must be its own, so give one of them another mid`,
      );
    }
    byIdentity.set(midIdentity(m.mid), m);
  }
  return shareKeyLimits(merchants);
}

/**
 * KBank limits a key, not a merchant: merchants that share a `key_env` get the lowest rate limit
 * and concurrency among them, and their nights share one job queue (see `nightQueue`), so the
 * limit holds however many workers run.
 */
function shareKeyLimits(merchants: Merchant[]): Merchant[] {
  const shared = new Map<string, { rateLimitRps: number; concurrency: number }>();
  for (const m of merchants) {
    const limits = shared.get(m.keyEnv);
    shared.set(m.keyEnv, limits
      ? { rateLimitRps: Math.min(limits.rateLimitRps, m.rateLimitRps), concurrency: Math.min(limits.concurrency, m.concurrency) }
      : { rateLimitRps: m.rateLimitRps, concurrency: m.concurrency });
  }
  return merchants.map((m) => ({ ...m, ...shared.get(m.keyEnv)! }));
}

function parseMerchant(entry: unknown, index: number, config: Config, path: string): Merchant {
  const where = (field: string) => {
    const named = isObject(entry) && typeof entry.mid === 'string' && isMid(entry.mid) && !LOOKS_LIKE_KEY.test(entry.mid);
    return `RECON_MERCHANTS ${path}: ${named ? `merchant ${entry.mid}` : `merchant #${index + 1}`}: ${field}`;
  };
  const fail = (field: string, problem: string): never => {
    throw new ReconError('CONFIG', `${where(field)} ${problem}`);
  };
  if (!isObject(entry)) return fail('', 'is not an object');
  for (const [field, value] of Object.entries(entry)) {
    if (LOOKS_LIKE_KEY.test(field)) {
      fail('a field', 'is named with what looks like a secret key (not shown); keys never go in this file: put the key in an environment variable and its name in key_env');
    }
    if (typeof value === 'string' && LOOKS_LIKE_KEY.test(value)) {
      fail(field, 'holds what looks like a secret key; keys never go in this file: put the key in an environment variable and its name in key_env');
    }
    if (!(FIELDS as readonly string[]).includes(field)) fail(field, `is not a field of a merchant (one of ${FIELDS.join(', ')})`);
  }
  const text = (field: (typeof FIELDS)[number], required: boolean): string | undefined => {
    const value = entry[field];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || !value.trim()) return fail(field, required ? 'is required (a non-empty string)' : 'must be a non-empty string');
    return value.trim();
  };
  const number = (field: (typeof FIELDS)[number], limits: { min: number; max: number }, whole: boolean, fallback: number | undefined) => {
    const value = entry[field];
    if (value === undefined) return fallback;
    const ok = typeof value === 'number' && (whole ? Number.isInteger(value) && value >= limits.min : value > limits.min) && value <= limits.max;
    if (!ok) fail(field, `must be ${whole ? 'a whole number from' : 'a number above'} ${limits.min} ${whole ? 'to' : 'and at most'} ${limits.max}, got ${JSON.stringify(value)}`);
    return value as number;
  };
  const mid = text('mid', true)!;
  if (!isMid(mid)) fail('mid', `must be ${MID_RULE}, starting with a letter or digit, got ${JSON.stringify(mid)}`);
  const keyEnv = text('key_env', true)!;
  if (!ENV_NAME.test(keyEnv)) fail('key_env', `must be the name of an environment variable (such as KPGW_KEY_SHOP_A), got ${JSON.stringify(keyEnv)}`);
  const schedule = text('schedule', false) ?? DEFAULT_SCHEDULE;
  const scheduleProblem = checkSchedule(schedule);
  if (scheduleProblem) fail('schedule', `'${schedule}' is not a cron expression (minute hour day-of-month month day-of-week): ${scheduleProblem}`);
  const baseUrlText = text('base_url', false);
  let baseUrl = config.kpgw.baseUrl;
  if (baseUrlText !== undefined) {
    try {
      baseUrl = normaliseBaseUrl(baseUrlText);
    } catch (error) {
      fail('base_url', `is not usable: ${(error as Error).message}`);
    }
  }
  return {
    mid,
    name: text('name', false),
    keyEnv,
    inbox: text('inbox', true)!,
    reportsDir: text('reports_dir', false) ?? join(config.reportsDir, mid),
    rateLimitRps: number('rate_limit_rps', LIMITS.KPGW_RATE_LIMIT_RPS, false, config.kpgw.rateLimitRps)!,
    concurrency: number('concurrency', LIMITS.KPGW_CONCURRENCY, true, config.kpgw.concurrency)!,
    schedule,
    baseUrl,
    maxRequests: number('max_requests', LIMITS.RECON_MAX_REQUESTS, true, config.recon.maxRequests),
  };
}

/**
 * The configuration one merchant's night runs with: the shared settings, with the merchant's
 * key, inbox, reports folder, gateway limits and budget. The key is read from the environment
 * variable the file names; a missing or malformed one is a configuration error naming both.
 */
export function merchantConfig(base: Config, merchant: Merchant, env: Record<string, string | undefined> = process.env): Config {
  const secretKey = env[merchant.keyEnv]?.trim() ?? '';
  if (!secretKey) throw new ReconError('CONFIG', `merchant ${merchant.mid}: key_env ${merchant.keyEnv} is not set (the merchant's secret key, skey_…)`);
  return Object.freeze({
    ...base,
    merchant: merchant.mid,
    inbox: merchant.inbox,
    reportsDir: merchant.reportsDir,
    kpgw: Object.freeze({
      ...base.kpgw,
      baseUrl: merchant.baseUrl,
      secretKey,
      rateLimitRps: merchant.rateLimitRps,
      concurrency: merchant.concurrency,
    }),
    recon: Object.freeze({ ...base.recon, maxRequests: merchant.maxRequests }),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a schedule is not a cron expression graphile-worker accepts, or `undefined`. */
function checkSchedule(pattern: string): string | undefined {
  try {
    // Only the pattern is checked: the task a merchant's line queues is the worker's business.
    parseCronItem({ task: 'schedule', match: pattern });
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}
