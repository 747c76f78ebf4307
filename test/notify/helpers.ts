import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { webhookChecksum } from '../../src/gateway/webhook-checksum.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { money } from '../../src/money.ts';

export const KEY = 'skey_test_notifyReceiverKey0123';

/** A QR Notify body as the guide shows it (§6.5.3), signed with `key`; `over` replaces fields before signing. */
export function qrNotify(n: number, key = KEY, over: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: `chrg_test_notify_${String(n).padStart(8, '0')}`,
    order_id: `order_test_${n}`,
    object: 'qr',
    amount: 100 + (n % 900) + 0.25,
    currency: 'THB',
    transaction_state: 'Authorized',
    source: { id: `qr_test_${n}`, object: 'qr', brand: 'ThaiQR' },
    created: '20260301101500000',
    status: 'success',
    reference_order: `REF${n}`,
    description: 'ทดสอบ',
    livemode: false,
    failure_code: '',
    failure_message: '',
    ...over,
  };
  return { ...body, checksum: checksumOf(body, key) };
}

export function checksumOf(body: Record<string, unknown>, key: string): string {
  return webhookChecksum(
    { id: String(body.id), amount: money(String(body.amount)), currency: String(body.currency), status: String(body.status), transactionState: String(body.transaction_state) },
    key,
  );
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A logger whose JSON lines are kept, for asserting on what was logged. */
export function capturedLogger(level = 'debug'): { logger: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  let text = '';
  const destination = new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) });
  const logger = createLogger({ level, destination: destination as never });
  return { logger, lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>), text: () => text };
}

/** Every row of every table in every schema of ours, as JSON text: to look for what must not be there. */
export async function dumpTables(db: Kysely<Database>): Promise<string> {
  const { rows: tables } = await sql<{ schema: string; name: string }>`
    SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`.execute(db);
  let dump = '';
  for (const t of tables) {
    const { rows } = await sql<{ row: string }>`SELECT row_to_json(t)::text AS row FROM ${sql.table(`${t.schema}.${t.name}`)} t`.execute(db);
    dump += `${t.schema}.${t.name}\n${rows.map((r) => r.row).join('\n')}\n`;
  }
  return dump;
}

/** Sends `bodies` with `concurrency` requests at a time; returns each one's status, in order. */
export async function flood(url: string, bodies: readonly string[], concurrency: number): Promise<number[]> {
  const statuses = new Array<number>(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      statuses[i] = (await post(url, bodies[i]!)).status;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}
