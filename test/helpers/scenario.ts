import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { money } from '../../src/money.ts';
import { runReconciliation } from '../../src/run/run-reconciliation.ts';
import type { RunOutcome } from '../../src/run/run-request.ts';
import type { FeeSource } from '../../src/run/run-request.ts';
import { SAMPLE_FEES, type GatewayBody, type LedgerRow } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type FaultConfig } from '../../src/simulator/index.ts';
import { randomUUID } from 'node:crypto';
import type { TestDatabase } from './database.ts';
import { atEndOfEachFile } from './file-scope.ts';

export const TEST_KEY = 'skey_test_scenario_0123456789';

export interface Scenario {
  from: string;
  to?: string;
  asOf?: string;
  ledger: LedgerRow[];
  gateway: GatewayBody[];
  /** Default: the sample fee schedule; `null` for none. */
  fees?: object | null;
  /** File name → CSV text. */
  plans?: Record<string, string>;
  faults?: FaultConfig;
  tolerance?: string;
  runId?: string;
  signal?: AbortSignal;
  env?: Record<string, string>;
  /** The key the simulator accepts and the run sends (default {@link TEST_KEY}); `skey_prod_…` expects live answers. */
  secretKey?: string;
}

export interface ScenarioResult {
  /** Its `reportDir` stays until the test file's tests are done. */
  outcome: RunOutcome;
  mismatches: Record<string, string>[];
  summary: Record<string, string>[];
  rejected: Record<string, string>[];
  /** `code` of each mismatch, sorted. */
  codes: string[];
  requests: number;
}

/** Every scenario's files go under one folder per test file, removed after the file's tests. */
let scenarioRoot: Promise<string> | undefined;
/** The next scenario's transaction date, counted per test file (see {@link nextDate}). */
let day = 0;
atEndOfEachFile(async () => {
  const root = scenarioRoot;
  scenarioRoot = undefined;
  day = 0;
  if (root) await rm(await root, { recursive: true, force: true });
});

/**
 * Runs one reconciliation end to end: the ledger as a CSV file, the gateway as the simulator
 * over real HTTP, the test file's own PostgreSQL.
 */
export async function runScenario(database: TestDatabase, scenario: Scenario): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(await (scenarioRoot ??= mkdtemp(join(tmpdir(), 'kpgw-scenario-'))), 'run-'));
  const ledgerFile = join(dir, 'ledger.csv');
  await writeFile(ledgerFile, ledgerCsv(scenario.ledger));
  const plans: string[] = [];
  for (const [name, text] of Object.entries(scenario.plans ?? {})) {
    await writeFile(join(dir, name), text);
    plans.push(join(dir, name));
  }
  let fees: FeeSource = { kind: 'none' };
  if (scenario.fees !== null) {
    await writeFile(join(dir, 'fees.json'), JSON.stringify(scenario.fees ?? SAMPLE_FEES));
    fees = { kind: 'file', file: join(dir, 'fees.json') };
  }
  const secretKey = scenario.secretKey ?? TEST_KEY;
  const simulator = await startSimulator({ secretKey, charges: scenario.gateway, faults: scenario.faults });
  const config = loadConfig({
    KPGW_BASE_URL: simulator.url,
    KPGW_SECRET_KEY: secretKey,
    KPGW_RATE_LIMIT_RPS: '2000',
    KPGW_CONCURRENCY: '16',
    KPGW_MAX_RETRIES: '2',
    // No scenario hangs a request: an answer slowed by a busy machine must never count as a timeout.
    KPGW_TIMEOUT_MS: '60000',
    RECON_REPORTS_DIR: join(dir, 'reports'),
    ...scenario.env,
  });
  try {
    const outcome = await runReconciliation(
      {
        kind: 'run',
        runId: scenario.runId ?? randomUUID(),
        from: scenario.from,
        to: scenario.to ?? scenario.from,
        asOf: scenario.asOf ?? scenario.to ?? scenario.from,
        ledgers: [ledgerFile],
        plans,
        fees,
        tolerance: money(scenario.tolerance ?? '0'),
      },
      {
        database: { url: database.url, db: database.db, close: async () => undefined },
        config,
        logger: createLogger({ level: 'silent' }),
        signal: scenario.signal ?? new AbortController().signal,
        gatewayOptions: { backoff: { baseMs: 5, capMs: 40 } },
      },
    );
    const read = async (name: string) => parse(await readFile(join(outcome.reportDir, name), 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    const mismatches = await read('mismatches.csv');
    return {
      outcome,
      mismatches,
      summary: await read('summary.csv'),
      rejected: await read('rejected.csv'),
      codes: mismatches.map((m) => m.code!).sort(),
      requests: simulator.stats().total,
    };
  } finally {
    await simulator.close();
  }
}

/** A fresh transaction date per scenario, so scenarios sharing a test file's database never meet. */
export function nextDate(): string {
  const d = new Date(Date.UTC(2026, 0, 1) + day++ * 86_400_000);
  return d.toISOString().slice(0, 10);
}
