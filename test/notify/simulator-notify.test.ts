import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { notifyTarget } from '../../src/notify/notify-target.ts';
import { startReceiver, type Receiver } from '../../src/notify/receiver.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { generateSample } from '../../src/sample/generate-sample.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { capturedLogger, KEY } from './helpers.ts';

const database = await createTestDatabase();
const { logger } = capturedLogger('warn');
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver({ host: '127.0.0.1', port: 0, targets: { single: notifyTarget({ mid: '', secretKey: KEY, db: database.db }, logger) }, logger });
});
afterAll(() => receiver.close());

const stored = async () => {
  const rows = await database.db.selectFrom('notifications').select(['charge_id', 'checksum_verdict', 'source_type', 'status', 'transaction_state', 'amount', 'body']).orderBy('charge_id').execute();
  return new Map(rows.map((r) => [r.charge_id, { ...r, body: JSON.parse(r.body) as Record<string, unknown> }]));
};

describe('the simulator sends notifications', () => {
  it('for each charge it serves, signed, in the guide\'s card, QR and Alipay shapes, and one forged', async () => {
    await sql`TRUNCATE notifications`.execute(database.db);
    const date = '2026-03-02';
    const card = buildCharge({ key: 'n-card', date, amount: '1500.00', sourceType: 'card', brand: 'mastercard' });
    const qr = buildCharge({ key: 'n-qr', date, amount: '89.50', sourceType: 'qr' });
    const alipay = buildCharge({ key: 'n-alipay', date, amount: '2750.25', sourceType: 'alipay' });
    const voided = buildCharge({ key: 'n-void', date, amount: '300.00', sourceType: 'card', voided: true });
    const simulator = await startSimulator({ secretKey: KEY, charges: [card, qr, alipay, voided].map((c) => c.gateway), notifyUrl: `${receiver.url}/notify`, today: date });
    try {
      expect(await simulator.notifications()).toEqual({ sent: 5, delivered: 5, failed: 0 });
    } finally {
      await simulator.close();
    }
    const rows = await stored();
    expect([...rows.keys()].sort()).toEqual(['chrg_test_forged_notify_000001', 'chrg_test_n-alipay', 'chrg_test_n-card', 'chrg_test_n-qr', 'chrg_test_n-void']);
    expect(rows.get('chrg_test_forged_notify_000001')!.checksum_verdict).toBe('invalid');
    const cardRow = rows.get('chrg_test_n-card')!;
    expect(cardRow).toMatchObject({ checksum_verdict: 'valid', source_type: 'card', status: 'success', transaction_state: 'Authorized', amount: '1500' });
    expect(cardRow.body.source).toMatchObject({ object: 'card', brand: 'mastercard', card_masking: expect.stringMatching(/\*{5}/) });
    expect(cardRow.body).not.toHaveProperty('order_id');
    const qrRow = rows.get('chrg_test_n-qr')!;
    expect(qrRow).toMatchObject({ checksum_verdict: 'valid', source_type: 'qr', amount: '89.5' });
    expect(qrRow.body).toMatchObject({ object: 'qr', order_id: 'ordr_test_n-qr', source: { object: 'qr', brand: 'ThaiQR' } });
    const alipayRow = rows.get('chrg_test_n-alipay')!;
    expect(alipayRow).toMatchObject({ checksum_verdict: 'valid', source_type: 'alipay', amount: '2750.25' });
    expect(alipayRow.body).toMatchObject({ object: 'charge', redirect_url: null, source: { object: 'redirect', brand: 'Alipay' } });
    // The payment was authorized; the void came after, and the inquiry tells of it.
    expect(rows.get('chrg_test_n-void')).toMatchObject({ checksum_verdict: 'valid', transaction_state: 'Authorized' });
  });

  it("notifies a generated sample's charges as its clock reaches them, the one the ledger lacks included", async () => {
    await sql`TRUNCATE notifications`.execute(database.db);
    const sample = generateSample({ from: '2026-03-01', days: 2, chargesPerDay: 20, seed: 7, timeline: {} });
    const missing = sample.notInLedger;
    expect(missing.date).toBe('2026-03-02');
    expect(sample.ledger.filter((row) => row.charge_id === missing.chargeId)).toEqual([]);
    const simulator = await startSimulator({ secretKey: KEY, charges: sample.gateway, notifyUrl: `${receiver.url}/notify`, today: '2026-03-01' });
    try {
      const firstDay = await simulator.notifications();
      expect((await stored()).has(missing.chargeId)).toBe(false);
      simulator.setToday('2026-03-02');
      const both = await simulator.notifications();
      // Each charge of the sample once (the ledger's, and the one it lacks), and the forged one.
      const charges = new Set(sample.gateway.map((g) => g.id));
      expect(both).toEqual({ sent: charges.size + 1, delivered: charges.size + 1, failed: 0 });
      expect(firstDay.sent).toBeLessThan(both.sent);
    } finally {
      await simulator.close();
    }
    const rows = await stored();
    expect(rows.get(missing.chargeId)).toMatchObject({ checksum_verdict: 'valid', status: 'success', amount: '1490' });
    expect([...rows.values()].filter((r) => r.checksum_verdict === 'invalid').map((r) => r.charge_id)).toEqual(['chrg_test_forged_notify_000001']);
  });
});
