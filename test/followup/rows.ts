import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import type { ChargeStateTable, FindingTable } from '../../src/followup/followup.table.ts';

/**
 * Rows of the follow-up tables as a run leaves them, written directly: these tests are about
 * reading and acknowledging them, whatever run wrote them.
 */
export const RUN_ID = '00000000-0000-4000-8000-000000000001';

export function chargeState(key: string, row: Partial<Insertable<ChargeStateTable>> = {}): Insertable<ChargeStateTable> {
  return {
    charge_key: key,
    entry_id: `E-${key}`,
    transaction_date: '2026-03-09',
    source_type: 'card',
    currency: 'THB',
    amount: '100.00',
    charge_id: key,
    reference_order: `ORD-${key}`,
    open: false,
    open_reason: null,
    first_seen_on: '2026-03-09',
    ...row,
  };
}

export function finding(key: string, code: string, row: Partial<Insertable<FindingTable>> = {}): Insertable<FindingTable> {
  return {
    charge_key: key,
    code,
    field: '',
    entry_id: '',
    transaction_date: '2026-03-09',
    source_type: 'card',
    charge_id: key,
    reference_order: `ORD-${key}`,
    severity: 'error',
    ledger_value: null,
    gateway_value: null,
    message: `${code} on ${key}`,
    first_seen_on: '2026-03-10',
    first_run_id: RUN_ID,
    last_run_id: RUN_ID,
    ...row,
  };
}

/** A finished run as of `asOf`: what open-items compares its --as-of with. */
export async function finishedRun(db: Kysely<Database>, asOf: string): Promise<void> {
  await db
    .insertInto('recon_runs')
    .values({ run_id: randomUUID(), kind: 'nightly', from_date: asOf, to_date: asOf, as_of: asOf, status: 'finished', params_key: 'test', pid: 1, host: 'test', finished_at: new Date() })
    .execute();
}
