import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { readNotification } from '../../src/notify/notification.ts';
import { storeNotifications } from '../../src/notify/notification-store.ts';
import { takeForgedNotifications } from '../../src/run/ingest-notified.ts';
import { clearRunWork } from '../../src/run/ingest-cases.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { KEY, qrNotify } from '../notify/helpers.ts';

const { db } = await createTestDatabase();
const scope = { receivedBefore: new Date('2026-03-02T17:00:00Z'), join: true, graceHours: 24, tz: 'Asia/Bangkok' };

describe('notifications whose checksum fails, in a night', () => {
  it('are a finding per claimed charge for the first 20 claims and one for all the rest, however many the hourly bound kept', async () => {
    // 23 charges claimed by forgeries (signed with another key), the first twice (two bodies),
    // received one a minute from 09:00 Bangkok time on 2 March; one more after the night's moment.
    const forged = (n: number, minute: number, amount = 100) => {
      const read = readNotification(JSON.stringify(qrNotify(n, 'skey_test_not_the_merchants', { amount })), KEY, {
        at: new Date(Date.UTC(2026, 2, 2, 2, minute)),
        via: 'http',
        from: '203.0.113.9',
      });
      if (!read.ok) throw new Error(read.reason);
      return read.notification;
    };
    const batch = [forged(1, 0), forged(1, 1, 101), ...Array.from({ length: 22 }, (_, i) => forged(2 + i, 2 + i)), forged(99, 60 * 16)];
    expect(new Set(await storeNotifications(db, batch))).toEqual(new Set(['stored']));
    await clearRunWork(db);

    const claims = await takeForgedNotifications(db, scope);
    expect(claims).toHaveLength(21);
    expect(claims[0]).toMatchObject({
      chargeKey: 'chrg_test_notify_00000001', date: '2026-03-02', sourceType: 'qr', chargeId: 'chrg_test_notify_00000001', referenceOrder: 'REF1', amount: '100',
      message: expect.stringMatching(/^2 notifications received from 2026-03-02T02:00:00\.000Z claiming charge chrg_test_notify_00000001 \(reference REF1, 100 THB success\) fail the checksum/),
    });
    expect(claims.slice(1, 20).map((c) => c.chargeKey)).toEqual(Array.from({ length: 19 }, (_, i) => `chrg_test_notify_${String(2 + i).padStart(8, '0')}`));
    // Claims 21 to 23 (charges 21, 22, 23), one notification each, in one finding.
    expect(claims[20]).toMatchObject({
      chargeKey: '(more forged notifications)', amount: '3',
      message: expect.stringMatching(/^3 more notifications claiming 3 other charges, received from 2026-03-02T02:21:00\.000Z to 2026-03-02T02:23:00\.000Z/),
    });
    // Every one of them is the run's to mark dealt with; the one received after the moment is not.
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM run_notifications`.execute(db);
    expect(rows[0]!.n).toBe(24);
  });
});
