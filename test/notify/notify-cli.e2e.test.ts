import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { humanLines, runCli, type CliResult } from '../helpers/cli.ts';
import { dumpTables, KEY, post, qrNotify } from './helpers.ts';

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-notify-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const env = { DATABASE_URL: database.url, KPGW_SECRET_KEY: KEY, RECON_MERCHANTS: undefined, RECON_MERCHANT: undefined };
const outputs: string[] = [];
const stored = async (db = database.db) => (await db.selectFrom('notifications').select('body').execute()).map((r) => r.body);
/**
 * The imports' own database: the merchants test leaves merchants' schemas in the first one, where
 * the single merchant, with no data of its own, is no longer taken without RECON_MERCHANT.
 */
const importing = await createTestDatabase();
const importEnv = { ...env, DATABASE_URL: importing.url };

describe('notify-receiver, the command', () => {
  it('on SIGTERM during a flood, stops and exits 0 with every notification it answered 200 stored', async () => {
    let child: ChildProcess | undefined;
    let announce: (url: string) => void;
    const listening = new Promise<string>((resolve) => (announce = resolve));
    const result = runCli(['notify-receiver', '--port', '0'], {
      env,
      onSpawn: (spawned) => {
        child = spawned;
        let out = '';
        spawned.stdout!.on('data', (chunk) => {
          out += String(chunk);
          const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
          if (url) announce(url);
        });
      },
    });
    const url = `${await Promise.race([listening, result.then((r) => Promise.reject(new Error(`receiver exited: ${r.stderr}`)))])}/notify`;
    let exited = false;
    void result.then(() => (exited = true));
    const answered: string[] = [];
    let sent = 0;
    const sender = async () => {
      // Each sender goes on until the receiver is gone: requests after SIGTERM are refused (503) or fail to connect.
      while (!exited && sent < 50_000) {
        const text = JSON.stringify(qrNotify(300_000 + sent++));
        const status = await post(url, text).then((a) => a.status, () => 0);
        if (status === 200) answered.push(text);
        if (answered.length === 300 && child!.exitCode === null && !child!.killed) child!.kill('SIGTERM');
      }
    };
    await Promise.all(Array.from({ length: 24 }, sender));
    const done: CliResult = await result;
    outputs.push(done.stdout, done.stderr);
    expect(done.code, done.stderr).toBe(0);
    expect(answered.length).toBeGreaterThanOrEqual(300);
    const rows = new Set(await stored());
    expect(answered.filter((text) => !rows.has(text))).toEqual([]);
    expect(done.stderr).toMatch(/every notification answered 200 is stored/);
  });

  it('prints its help, and refuses to start without a key in one line (exit 2)', async () => {
    const help = await runCli(['notify-receiver', '--help']);
    expect(help.stdout).toMatch(/POST \/notify\/\{mid\}/);
    const noKey = await runCli(['notify-receiver', '--port', '0'], { env: { ...env, KPGW_SECRET_KEY: undefined } });
    expect(noKey.code).toBe(2);
    expect(humanLines(noKey.stderr)).toEqual(['kpgw-recon: KPGW_SECRET_KEY is not set (the merchant secret key, skey_…)']);
  });
});

describe('notify-receiver with a merchants file', () => {
  it("serves POST /notify/{mid} for each merchant, with its key_env's key and its own schema; an unknown mid is 404", async () => {
    const merchants = join(dir, 'merchants.json');
    const shop = (mid: string, keyEnv: string) => ({ mid, key_env: keyEnv, inbox: join(dir, mid) });
    await writeFile(merchants, JSON.stringify({ merchants: [shop('shop-a', 'KPGW_KEY_A'), shop('shop-b', 'KPGW_KEY_B')] }));
    const keyB = 'skey_test_merchantBsOwnKey42';
    const merchantEnv = { ...env, KPGW_SECRET_KEY: undefined, RECON_MERCHANTS: merchants, KPGW_KEY_A: KEY, KPGW_KEY_B: keyB };
    let child: ChildProcess | undefined;
    let announce: (url: string) => void;
    const listening = new Promise<string>((resolve) => (announce = resolve));
    const result = runCli(['notify-receiver', '--port', '0'], {
      env: merchantEnv,
      onSpawn: (spawned) => {
        child = spawned;
        spawned.stdout!.on('data', (chunk) => {
          const url = /listening on (http:\/\/\S+)/.exec(String(chunk))?.[1];
          if (url) announce(url);
        });
      },
    });
    const url = await Promise.race([listening, result.then((r) => Promise.reject(new Error(`receiver exited: ${r.stderr}`)))]);
    const forB = JSON.stringify(qrNotify(500_001, keyB));
    expect((await post(`${url}/notify/shop-b`, forB)).status).toBe(200);
    expect((await post(`${url}/notify/shop-a`, forB)).status).toBe(200);
    expect((await post(`${url}/notify/shop-c`, forB)).status).toBe(404);
    expect((await post(`${url}/notify`, forB)).status).toBe(404);
    child!.kill('SIGTERM');
    const done = await result;
    outputs.push(done.stdout, done.stderr);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/POST \/notify\/shop-a, \/notify\/shop-b/);
    const { rows } = await sql<{ schema: string; verdict: string }>`
      SELECT 'a' AS schema, checksum_verdict AS verdict FROM kpgw_shop_a.notifications
      UNION ALL SELECT 'b', checksum_verdict FROM kpgw_shop_b.notifications ORDER BY 1`.execute(database.db);
    expect(rows).toEqual([
      { schema: 'a', verdict: 'invalid' },
      { schema: 'b', verdict: 'valid' },
    ]);
    const missingKey = await runCli(['notify-receiver', '--port', '0'], { env: { ...merchantEnv, KPGW_KEY_B: undefined } });
    expect(missingKey.code).toBe(2);
    expect(humanLines(missingKey.stderr)).toEqual([expect.stringMatching(/merchant shop-b: key_env KPGW_KEY_B is not set/)]);
    outputs.push(missingKey.stderr);
  });
});

describe('notify-import', () => {
  it("loads JSON lines and JSON arrays with the receiver's checks, reports bad lines with file and line, and stores nothing new the second time", async () => {
    const valid = [1, 2, 3].map((n) => JSON.stringify(qrNotify(400_000 + n)));
    const forged = JSON.stringify(qrNotify(400_009, 'skey_test_someone_else'));
    const lines = join(dir, 'notifications.jsonl');
    await writeFile(lines, `${valid[0]}\n\n${forged}\r\n{"id": "chrg_cut_off", "amount":\n${valid[1]}\n`);
    const array = join(dir, 'notifications.json');
    const pretty = JSON.stringify(qrNotify(400_004), null, 2);
    // valid[1] again (stored from the first file), a new one written over several lines, a string, another new one.
    await writeFile(array, `[\n${valid[1]},\n${pretty},\n"not an object",\n${valid[2]}\n]\n`);

    const first = await runCli(['notify-import', lines, array], { env: importEnv });
    outputs.push(first.stdout, first.stderr);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout.split('\n').filter(Boolean)).toEqual([
      `${lines}: 3 stored, 0 already stored; 1 with a checksum that FAILS (1 of them stored now, 0 only counted); 1 rejected (see the log for file and line)`,
      `${array}: 2 stored, 1 already stored; 1 rejected (see the log for file and line)`,
    ]);
    const warned = first.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; file?: string; line?: number });
    expect(warned.filter((l) => l.level === 40).map((l) => `${l.file}:${l.line}`)).toEqual([
      `${lines}:4`,
      // `[`, valid[1], then `pretty` from line 3 over its own lines: the string is on the line after.
      `${array}:${3 + pretty.split('\n').length}`,
    ]);
    expect((await stored(importing.db)).sort()).toEqual([...valid, forged, pretty].sort());
    const provenance = await importing.db.selectFrom('notifications').select(['received_via', 'received_from']).where('body', '=', pretty).executeTakeFirstOrThrow();
    expect(provenance).toEqual({ received_via: 'import', received_from: `${array}:3` });

    const again = await runCli(['notify-import', lines, array], { env: importEnv });
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/notifications\.jsonl: 0 stored, 3 already stored/);
    expect(again.stdout).toMatch(/notifications\.json: 0 stored, 3 already stored/);
    expect(await stored(importing.db)).toHaveLength(5);
  });

  it('exits 0 for a file of verified notifications, and 2 in one line for a file it cannot read, importing nothing', async () => {
    const good = join(dir, 'good.jsonl');
    await writeFile(good, `${JSON.stringify(qrNotify(400_100))}\n`);
    const ok = await runCli(['notify-import', good], { env: importEnv });
    expect(ok.code, ok.stderr).toBe(0);
    const before = (await stored(importing.db)).length;
    const missing = await runCli(['notify-import', good, join(dir, 'nope.jsonl')], { env: importEnv });
    expect(missing.code).toBe(2);
    expect(humanLines(missing.stderr)).toEqual([`kpgw-recon: ${join(dir, 'nope.jsonl')}: the notifications file does not exist`]);
    expect(await stored(importing.db)).toHaveLength(before);
  });

  it('leaves the key in no output and no table', async () => {
    const seen = `${outputs.join('\n')}\n${await dumpTables(database.db)}\n${await dumpTables(importing.db)}`.toLowerCase();
    expect(outputs.join('').length).toBeGreaterThan(1000);
    for (const key of [KEY, 'skey_test_merchantBsOwnKey42']) expect(seen.includes(key.toLowerCase())).toBe(false);
  });
});
