import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely } from '../../src/db/connection.ts';
import { urlForMerchant } from '../../src/db/merchant.ts';
import { migrate } from '../../src/db/migrate.ts';
import { notifyTarget } from '../../src/notify/notify-target.ts';
import { startReceiver, type Receiver } from '../../src/notify/receiver.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturedLogger, checksumOf, dumpTables, flood, KEY, post, qrNotify, type Answer } from './helpers.ts';

const database = await createTestDatabase();
const captured = capturedLogger();
/** Every answer of this file's requests, for the last test's look for the key. */
const answers: Answer[] = [];
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const rows = () => database.db.selectFrom('notifications').selectAll().orderBy('notification_id').execute();
const clear = async () => {
  await sql`TRUNCATE notifications, notification_invalid_hours`.execute(database.db);
};

let receiver: Receiver;
let url: string;
beforeAll(async () => {
  const target = notifyTarget({ mid: '', secretKey: KEY, db: database.db, invalidPerHour: 3 }, captured.logger);
  receiver = await startReceiver({ host: '127.0.0.1', port: 0, targets: { single: target }, logger: captured.logger, maxInFlight: 64 });
  url = `${receiver.url}/notify`;
});
afterAll(() => receiver.close());

async function send(body: string | Uint8Array, headers: Record<string, string> = {}, to = url): Promise<Answer> {
  const answer = await post(to, body, headers);
  answers.push(answer);
  return answer;
}

describe('notify-receiver', () => {
  it('stores a valid notification exactly as received, with its fields and time, and answers 200 with no body', async () => {
    await clear();
    const body = qrNotify(1, KEY, { amount: 0 });
    // Spacing, key order and the amount's digits as KBank might send them: all kept.
    const text = JSON.stringify(body, null, 1).replace('"amount": 0', '"amount": 1234.50');
    const signed = text.replace(/"checksum": "[0-9a-f]+"/, `"checksum": "${checksumOf({ ...body, amount: '1234.50' }, KEY)}"`);
    const before = new Date();
    const answer = await send(signed);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
    const [row, ...more] = await rows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      body: signed,
      checksum_verdict: 'valid',
      received_via: 'http',
      charge_id: 'chrg_test_notify_00000001',
      order_id: 'order_test_1',
      reference_order: 'REF1',
      source_type: 'qr',
      amount: '1234.50',
      currency: 'THB',
      status: 'success',
      transaction_state: 'Authorized',
      livemode: false,
    });
    expect(row!.body_sha256.toString('hex')).toBe(sha(signed));
    expect(row!.received_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1);
    expect(row!.received_from).toMatch(/127\.0\.0\.1/);
  });

  it('stores a repeated notification once', async () => {
    await clear();
    const text = JSON.stringify(qrNotify(2));
    expect((await send(text)).status).toBe(200);
    expect((await send(text)).status).toBe(200);
    expect(await rows()).toHaveLength(1);
  });

  it('keeps a forged notification (its checksum fails) as evidence, flagged invalid', async () => {
    await clear();
    const forged = JSON.stringify(qrNotify(3, 'skey_test_not_the_merchants_key'));
    const tampered = JSON.stringify({ ...qrNotify(4), amount: 99999 });
    const unsigned = JSON.stringify({ ...qrNotify(5), checksum: undefined });
    for (const text of [forged, tampered, unsigned]) expect((await send(text)).status).toBe(200);
    const stored = await rows();
    expect(stored.map((r) => [r.body, r.checksum_verdict])).toEqual([
      [forged, 'invalid'],
      [tampered, 'invalid'],
      [unsigned, 'invalid'],
    ]);
    expect(stored[1]!.amount).toBe('99999');
  });

  it('past the hourly bound, counts invalid notifications without storing them, and says so once', async () => {
    await clear();
    // The bound is 3 here; a repeat of a kept one uses none of it.
    const bodies = [6, 7, 8, 9, 10].map((n) => JSON.stringify(qrNotify(n, 'skey_test_wrong')));
    for (const text of [bodies[0]!, bodies[0]!, ...bodies.slice(1)]) expect((await send(text)).status).toBe(200);
    expect((await rows()).map((r) => r.body)).toEqual(bodies.slice(0, 3));
    const hours = await database.db.selectFrom('notification_invalid_hours').select(['stored', 'dropped']).execute();
    expect(hours).toEqual([{ stored: 3, dropped: 2 }]);
    const told = captured.lines().filter((l) => String(l.msg).includes('failing checksum this hour'));
    expect(told).toHaveLength(1);
    // A valid notification is never bounded.
    expect((await send(JSON.stringify(qrNotify(11)))).status).toBe(200);
    expect((await rows()).at(-1)!.checksum_verdict).toBe('valid');
  });

  it('refuses a body over 64 KiB with 413, by its Content-Length or as it streams, storing nothing', async () => {
    await clear();
    const big = JSON.stringify({ ...qrNotify(12), description: 'x'.repeat(64 * 1024) });
    const declared = await send(big);
    expect(declared.status).toBe(413);
    // Chunked: no Content-Length, so the limit is found while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 70; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(chunked).toBe(413);
    // Exactly 64 KiB is allowed.
    const body = JSON.stringify(qrNotify(13));
    const padded = `${body}${' '.repeat(64 * 1024 - Buffer.byteLength(body))}`;
    expect((await send(padded)).status).toBe(200);
    expect((await rows()).map((r) => r.body)).toEqual([padded]);
  });

  it('refuses a body that is not a JSON object with 400, storing nothing', async () => {
    await clear();
    const notJson = ['', 'id=chrg_1&amount=10', '{"id": "chrg_1", ', '[{"id": "chrg_1"}]', '"chrg_1"', '{"id": "a", "id": "b"}'];
    for (const text of notJson) expect((await send(text)).status, text).toBe(400);
    const latin1 = Buffer.concat([Buffer.from('{"description": "'), Buffer.from([0xe9]), Buffer.from('"}')]);
    expect((await send(latin1)).status).toBe(400);
    expect(await rows()).toEqual([]);
  });

  it('answers 404 for other paths and 405 for other methods; GET /health says the database answers', async () => {
    await clear();
    expect((await send(JSON.stringify(qrNotify(14)), {}, `${receiver.url}/notify/401202106042001`)).status).toBe(404);
    expect((await send(JSON.stringify(qrNotify(14)), {}, `${receiver.url}/other`)).status).toBe(404);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    const health = await fetch(`${receiver.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'up' });
    expect(await rows()).toEqual([]);
  });

  it('stores a flood of 2,000 notifications exactly once each, every one answered 200', async () => {
    await clear();
    const bodies = Array.from({ length: 2000 }, (_, i) => JSON.stringify(qrNotify(100_000 + i)));
    // Each sent twice, the repeats racing the originals.
    const statuses = await flood(url, [...bodies, ...bodies], 40);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const stored = await rows();
    expect(stored).toHaveLength(2000);
    expect(new Set(stored.map((r) => r.body_sha256.toString('hex')))).toEqual(new Set(bodies.map(sha)));
  });
});

describe('notify-receiver when it has too much in hand', () => {
  it('answers 503 with Retry-After past its limit, says so in one line, and stores the rest once the database is back', async () => {
    await clear();
    const target = notifyTarget({ mid: '', secretKey: KEY, db: database.db }, captured.logger);
    const small = await startReceiver({ host: '127.0.0.1', port: 0, targets: { single: target }, logger: captured.logger, maxInFlight: 2 });
    // Writes wait while a transaction holds the table: two notifications stay in hand.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE');
      const held = [JSON.stringify(qrNotify(20)), JSON.stringify(qrNotify(21))].map((text) => post(`${small.url}/notify`, text));
      // Until both are in hand (health reads no table).
      while (((await (await fetch(`${small.url}/health`)).json()) as { inFlight: number }).inFlight < 2);
      const shed = [await send(JSON.stringify(qrNotify(22)), {}, `${small.url}/notify`), await send(JSON.stringify(qrNotify(23)), {}, `${small.url}/notify`)];
      expect(shed.map((a) => [a.status, a.headers.get('retry-after')])).toEqual([
        [503, '5'],
        [503, '5'],
      ]);
      await blocker.query('COMMIT');
      expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
      expect((await rows()).map((r) => r.charge_id).sort()).toEqual(['chrg_test_notify_00000020', 'chrg_test_notify_00000021']);
      const lines = captured.lines();
      expect(lines.filter((l) => String(l.msg).startsWith('shedding load'))).toHaveLength(1);
      expect(lines.filter((l) => String(l.msg).startsWith('load shedding over'))).toHaveLength(1);
    } finally {
      await blocker.end();
      await small.close();
    }
  });

  it('answers 503 with Retry-After while the database refuses to store, says so once, and stores again after', async () => {
    await clear();
    await sql`CREATE FUNCTION refuse_notification() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`.execute(database.db);
    await sql`CREATE TRIGGER refuse_notification BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION refuse_notification()`.execute(database.db);
    const bodies = [40, 41, 42].map((n) => JSON.stringify(qrNotify(n)));
    try {
      const refused = await Promise.all(bodies.map((text) => send(text)));
      expect(refused.map((a) => [a.status, a.headers.get('retry-after')])).toEqual(bodies.map(() => [503, '5']));
    } finally {
      await sql`DROP TRIGGER refuse_notification ON notifications`.execute(database.db);
      await sql`DROP FUNCTION refuse_notification()`.execute(database.db);
    }
    expect(await rows()).toEqual([]);
    expect((await send(bodies[0]!)).status).toBe(200);
    expect((await rows()).map((r) => r.body)).toEqual([bodies[0]]);
    const lines = captured.lines().map((l) => String(l.msg));
    expect(lines.filter((m) => m.startsWith('cannot store notifications'))).toHaveLength(1);
    expect(lines.filter((m) => m === 'storing notifications again')).toHaveLength(1);
  });

  it('on close, stops accepting and stores every notification it answered 200', async () => {
    await clear();
    const target = notifyTarget({ mid: '', secretKey: KEY, db: database.db }, captured.logger);
    const closing = await startReceiver({ host: '127.0.0.1', port: 0, targets: { single: target }, logger: captured.logger });
    const bodies = Array.from({ length: 600 }, (_, i) => JSON.stringify(qrNotify(200_000 + i)));
    const answered: string[] = [];
    let next = 0;
    const sender = async () => {
      while (next < bodies.length) {
        const text = bodies[next++]!;
        const status = await post(`${closing.url}/notify`, text).then((a) => a.status, () => 0);
        if (status === 200) answered.push(text);
        if (answered.length === 100) void closing.close();
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    await closing.close();
    expect(answered.length).toBeGreaterThanOrEqual(100);
    const stored = new Set((await rows()).map((r) => r.body));
    expect(answered.filter((text) => !stored.has(text))).toEqual([]);
  });
});

describe('notify-receiver for several merchants', () => {
  const A = 'shop-a';
  const B = 'shop-b';
  const KEY_B = 'skey_test_shopBsKey98765';
  let many: Receiver;
  let dbs: ReturnType<typeof createKysely>[];
  beforeAll(async () => {
    dbs = [];
    const byMid = new Map();
    for (const [mid, key] of [[A, KEY], [B, KEY_B]] as const) {
      const merchantUrl = urlForMerchant(database.url, mid);
      await migrate(merchantUrl);
      const db = createKysely(merchantUrl, 2);
      dbs.push(db);
      byMid.set(mid, notifyTarget({ mid, secretKey: key, db }, captured.logger));
    }
    many = await startReceiver({ host: '127.0.0.1', port: 0, targets: { byMid }, logger: captured.logger });
  });
  afterAll(async () => {
    await many.close();
    await Promise.all(dbs.map((db) => db.destroy()));
  });

  it("stores each merchant's notifications in its own schema, checked with its own key; an unknown mid is 404", async () => {
    const forA = JSON.stringify(qrNotify(30));
    const forB = JSON.stringify(qrNotify(31, KEY_B));
    const bsToA = JSON.stringify(qrNotify(32, KEY_B));
    expect((await send(forA, {}, `${many.url}/notify/${A}`)).status).toBe(200);
    expect((await send(forB, {}, `${many.url}/notify/${B}`)).status).toBe(200);
    expect((await send(bsToA, {}, `${many.url}/notify/${A}`)).status).toBe(200);
    expect((await send(forA, {}, `${many.url}/notify/shop-c`)).status).toBe(404);
    expect((await send(forA, {}, `${many.url}/notify`)).status).toBe(404);
    const stored = async (db: (typeof dbs)[number]) =>
      (await db.selectFrom('notifications').select(['merchant', 'body', 'checksum_verdict']).orderBy('notification_id').execute()).map((r) => [r.merchant, r.body, r.checksum_verdict]);
    expect(await stored(dbs[0]!)).toEqual([
      [A, forA, 'valid'],
      [A, bsToA, 'invalid'],
    ]);
    expect(await stored(dbs[1]!)).toEqual([[B, forB, 'valid']]);
  });
});

describe('the secret key', () => {
  it('appears in no log line, answer or table after all of the above, in any letter case', async () => {
    const keys = [KEY, 'skey_test_shopBsKey98765'].map((k) => k.toLowerCase());
    const seen = [captured.text(), ...answers.map((a) => `${JSON.stringify([...a.headers])}${a.text}`), await dumpTables(database.db)].join('\n').toLowerCase();
    expect(captured.lines().length).toBeGreaterThan(100);
    for (const key of keys) expect(seen.includes(key)).toBe(false);
  });
});
