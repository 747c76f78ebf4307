import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { money } from '../../src/money.ts';
import { runReconciliation } from '../../src/run/run-reconciliation.ts';
import type { RunOutcome } from '../../src/run/run-request.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type FaultConfig } from '../../src/simulator/index.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { TEST_KEY } from '../helpers/scenario.ts';

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), 'kpgw-audit-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const DATE = '2026-03-02';
/**
 * KBank's answer as it comes over the wire: `10.7000` and `"0011.00"` are what a parse and
 * re-serialisation would change (to `10.7` and nothing else), so they prove the text is kept.
 */
const EXACT_BODY =
  '{"id":"chrg_test_exact","object":"charge","amount":"0011.00","currency":"THB","transaction_state":"Settled","status":"success",' +
  '"source":{"id":"card_test_exact","object":"card","brand":"visa"},"created":"20260302101500000","reference_order":"ORD-exact",' +
  '"approval_code":"000941","livemode":false,"settlement_info":{"settle_amount":"0011.00","orig_amount":11.0000,' +
  '"orig_mdr": 10.7000, "orig_vat":0.0200,"orig_net_amount":0.2800},"refund_info":null}';
const other = buildCharge({ key: 'slow', date: DATE, amount: '50.00' });

const ledger = ledgerCsv([
  // The ledger expects 0.28 / 0.02 / 10.70: MDR and NET differ from the answer's figures.
  { entry_id: 'E-exact', entry_type: 'charge', charge_id: 'chrg_test_exact', reference_order: 'ORD-exact', transaction_date: DATE, source_type: 'card', currency: 'THB', amount: '11.00', mdr: '0.28', vat: '0.02', net_amount: '10.70' },
  ...other.ledger,
]);
const ledgerFile = join(dir, 'ledger.csv');
await writeFile(ledgerFile, ledger);

async function run(gatewayLines: string[], faults: FaultConfig, stopAfterFirstAnswer: boolean): Promise<RunOutcome> {
  const dataFile = join(dir, `gateway-${randomUUID()}.jsonl`);
  await writeFile(dataFile, gatewayLines.join('\n'));
  const simulator = await startSimulator({ secretKey: TEST_KEY, dataFile, faults });
  const stop = new AbortController();
  try {
    return await runReconciliation(
      { kind: 'run', runId: randomUUID(), from: DATE, to: DATE, asOf: DATE, ledgers: [ledgerFile], plans: [], fees: { kind: 'none' }, outDir: join(dir, randomUUID()), tolerance: money('0') },
      {
        database: { url: database.url, db: database.db, close: async () => undefined },
        config: loadConfig({ KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: TEST_KEY, KPGW_RATE_LIMIT_RPS: '1000', KPGW_TIMEOUT_MS: '60000', KPGW_MAX_RETRIES: '1' }),
        logger: createLogger({ level: 'silent' }),
        signal: stop.signal,
        gatewayOptions: { backoff: { baseMs: 5, capMs: 20 } },
        onProgress: (stage, done) => {
          if (stopAfterFirstAnswer && stage === 'inquiry' && (done ?? 0) >= 1) stop.abort(new Error('interrupted by the test'));
        },
      },
    );
  } finally {
    await simulator.close();
  }
}

const storedBody = async (runId: string, chargeKey: string) =>
  (await database.db.selectFrom('gateway_inquiries').select(['body', 'http_status']).where('run_id', '=', runId).where('charge_key', '=', chargeKey).executeTakeFirstOrThrow());

describe('the audit trail keeps each answer exactly as KBank sent it', () => {
  it('stores the body text byte for byte, and a resumed run reads the same findings back from it', async () => {
    // 1. Interrupted once the exact answer is in, while the other charge's request hangs (the
    //    interruption ends it: no timeout needed, so none a busy machine could reach).
    const interrupted = run([EXACT_BODY, JSON.stringify(other.gateway)], { perCharge: { chrg_test_slow: 'hang' } }, true);
    await expect(interrupted).rejects.toThrow('interrupted by the test');
    const aborted = await database.db.selectFrom('recon_runs').select('run_id').where('status', '=', 'aborted').executeTakeFirstOrThrow();
    expect(await storedBody(aborted.run_id, 'chrg_test_exact')).toEqual({ body: EXACT_BODY, http_status: 200 });

    // 2. Resumed against a gateway that no longer knows the exact charge: whatever the resumed
    //    run finds about it can only come from the stored text.
    const resumed = await run([JSON.stringify(other.gateway)], {}, false);
    expect(await storedBody(resumed.run.run_id, 'chrg_test_exact')).toEqual({ body: EXACT_BODY, http_status: 200 });
    const mismatches = parse(await readFile(join(resumed.reportDir, 'mismatches.csv'), 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    expect(mismatches.map((m) => [m.charge_id, m.code, m.field, m.ledger_value, m.gateway_value])).toEqual([
      ['chrg_test_exact', 'MDR_MISMATCH', 'orig_mdr', '0.28', '10.70'],
      ['chrg_test_exact', 'NET_MISMATCH', 'orig_net_amount', '10.70', '0.28'],
    ]);
    expect(resumed.run.counts).toMatchObject({ charges: 2, matched: 1, mismatched: 1, unverified: 0 });
  });
});
