import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { merchantConfig, parseMerchants } from '../../src/config/merchants-file.ts';
import { merchantCronItems, nightOfSchedule } from '../../src/worker/schedule.ts';
import { humanLines, runCli } from '../helpers/cli.ts';

/** The merchants file (docs/reference.md §1.18): defaults, and every mistake as one line naming merchant and field. */
const config = loadConfig({ RECON_REPORTS_DIR: '/srv/reports', KPGW_RATE_LIMIT_RPS: '7', KPGW_CONCURRENCY: '3', RECON_MAX_REQUESTS: '500' });
const parse = (merchants: unknown[]) => parseMerchants({ merchants }, config, 'm.json');
const minimal = { mid: 'M1', key_env: 'KPGW_KEY_M1', inbox: '/srv/m1/inbox' };

describe('the merchants file', () => {
  it('fills in the defaults from the settings', () => {
    expect(parse([minimal])).toEqual([{
      mid: 'M1', name: undefined, keyEnv: 'KPGW_KEY_M1', inbox: '/srv/m1/inbox', reportsDir: join('/srv/reports', 'M1'),
      rateLimitRps: 7, concurrency: 3, schedule: '30 2 * * *', baseUrl: config.kpgw.baseUrl, maxRequests: 500,
    }]);
  });

  it.each([
    [[{ ...minimal, key_env: 'skey_test_abcdef0123' }], 'merchant M1: key_env holds what looks like a secret key; keys never go in this file: put the key in an environment variable and its name in key_env'],
    [[{ ...minimal, secret: 'skey_prod_abcdef0123' }], 'merchant M1: secret holds what looks like a secret key; keys never go in this file: put the key in an environment variable and its name in key_env'],
    [[{ ...minimal, rate_limit: 5 }], 'merchant M1: rate_limit is not a field of a merchant (one of mid, name, key_env, inbox, reports_dir, rate_limit_rps, concurrency, schedule, base_url, max_requests)'],
    [[minimal, { mid: 'M2', key_env: 'K2' }], 'merchant M2: inbox is required (a non-empty string)'],
    [[minimal, { key_env: 'K2', inbox: '/x' }], 'merchant #2: mid is required (a non-empty string)'],
    [[{ ...minimal, mid: '../etc' }], `merchant #1: mid must be 1 to 40 letters, digits, '_' or '-', starting with a letter or digit, got "../etc"`],
    // 41 characters: a schema and a job key could hold it, RECON_MERCHANT could not name it.
    [[{ ...minimal, mid: `M${'0'.repeat(40)}` }], `merchant #1: mid must be 1 to 40 letters, digits, '_' or '-', starting with a letter or digit, got "M${'0'.repeat(40)}"`],
    [[minimal, { ...minimal, mid: 'm-1' }], "merchants M1 and m-1 are the same mid once letter case, '-' and '_' are ignored; each merchant's data must be its own, so give one of them another mid"],
    [[{ ...minimal, mid: 'Shop-A' }, { ...minimal, mid: 'shop_a' }], "merchants Shop-A and shop_a are the same mid once letter case, '-' and '_' are ignored; each merchant's data must be its own, so give one of them another mid"],
    [[{ ...minimal, skey_prod_NamedLikeAKey0123: 'x' }], 'merchant M1: a field is named with what looks like a secret key (not shown); keys never go in this file: put the key in an environment variable and its name in key_env'],
    [[{ ...minimal, mid: 'skey_test_abcdef0123' }], 'merchant #1: mid holds what looks like a secret key; keys never go in this file: put the key in an environment variable and its name in key_env'],
    [[{ ...minimal, key_env: 'KPGW KEY' }], 'merchant M1: key_env must be the name of an environment variable (such as KPGW_KEY_SHOP_A), got "KPGW KEY"'],
    [[{ ...minimal, rate_limit_rps: 0 }], 'merchant M1: rate_limit_rps must be a number above 0 and at most 10000, got 0'],
    [[{ ...minimal, concurrency: 2.5 }], 'merchant M1: concurrency must be a whole number from 1 to 256, got 2.5'],
    [[{ ...minimal, schedule: '30 25 * * *' }], expect.stringMatching(/^RECON_MERCHANTS m.json: merchant M1: schedule '30 25 \* \* \*' is not a cron expression/)],
    [[{ ...minimal, base_url: 'http://kpgw.example.com' }], expect.stringMatching(/^RECON_MERCHANTS m.json: merchant M1: base_url is not usable: /)],
    [[minimal, minimal], 'merchant M1 is listed twice'],
  ])('refuses %j', (merchants, message) => {
    let error: unknown;
    try {
      parse(merchants);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'CONFIG' });
    expect((error as Error).message).toEqual(typeof message === 'string' ? `RECON_MERCHANTS m.json: ${message}` : message);
  });

  it('gives merchants that share a key_env the lowest rate limit and concurrency among them', () => {
    const shared = { key_env: 'KPGW_KEY_SHARED', inbox: '/srv/shared/inbox' };
    const merchants = parse([
      { ...shared, mid: 'A1', rate_limit_rps: 5, concurrency: 2 },
      { ...shared, mid: 'A2', rate_limit_rps: 3, concurrency: 6 },
      { ...minimal, rate_limit_rps: 8, concurrency: 8 },
    ]);
    expect(merchants.map((m) => [m.mid, m.rateLimitRps, m.concurrency])).toEqual([['A1', 3, 2], ['A2', 3, 2], ['M1', 8, 8]]);
  });

  it("gives each merchant's night its key, inbox, folder and limits", () => {
    const [m] = parse([{ ...minimal, rate_limit_rps: 2.5, concurrency: 8, max_requests: 40, reports_dir: '/srv/m1/reports' }]);
    const night = merchantConfig(config, m!, { KPGW_KEY_M1: 'skey_test_m1_0123456789' });
    expect(night).toMatchObject({ merchant: 'M1', inbox: '/srv/m1/inbox', reportsDir: '/srv/m1/reports', kpgw: { secretKey: 'skey_test_m1_0123456789', rateLimitRps: 2.5, concurrency: 8 }, recon: { maxRequests: 40 } });
    expect(() => merchantConfig(config, m!, {})).toThrow('merchant M1: key_env KPGW_KEY_M1 is not set (the merchant\'s secret key, skey_…)');
  });
});

describe('the schedule', () => {
  it('is read in RECON_TZ, and each scheduled time reconciles the day before it there', () => {
    const [item] = merchantCronItems([{ mid: 'M1', schedule: '30 2 * * *', keyEnv: 'KPGW_KEY_M1' }], 'Asia/Bangkok', 3);
    const digest = (iso: string) => {
      const t = new Date(iso);
      return { min: t.getUTCMinutes(), hour: t.getUTCHours(), date: t.getUTCDate(), month: t.getUTCMonth() + 1, dow: t.getUTCDay() };
    };
    const recent = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(item!.match(digest(`${recent}T19:30:00Z`))).toBe(true); // 02:30 the next morning in Bangkok
    expect(item!.match(digest(`${recent}T02:30:00Z`))).toBe(false);
    expect(item!.options).toMatchObject({ backfillPeriod: 3 * 86_400_000, queueName: 'key:KPGW_KEY_M1' });
    expect(nightOfSchedule('2026-06-11T19:30:00.000Z', 'Asia/Bangkok')).toBe('2026-06-11');
  });
});

describe('worker and enqueue with a bad merchants file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpgw-merchants-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exit 2 with one line naming the merchant and the field, never the key', async () => {
    const file = join(dir, 'merchants.json');
    await writeFile(file, JSON.stringify({ merchants: [{ ...minimal, key_env: 'skey_test_leaked_0123456789' }] }));
    for (const command of [['worker', '--once'], ['enqueue', '--date', '2026-06-01']]) {
      const result = await runCli(command, { env: { RECON_MERCHANTS: file, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
      expect(result.code).toBe(2);
      expect(humanLines(result.stderr)).toEqual([`kpgw-recon: RECON_MERCHANTS ${file}: merchant M1: key_env holds what looks like a secret key; keys never go in this file: put the key in an environment variable and its name in key_env`]);
      expect(result.stderr).not.toContain('leaked');
    }
  });
});
