import { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import type { DestinationStream } from 'pino';
import type { Database } from '../../src/db/database.ts';
import { createLogger, type Logger } from '../../src/log.ts';

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

/** A logger whose JSON lines the test can read back. */
export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const captured: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      captured.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination: destination as unknown as DestinationStream });
  return {
    logger,
    lines: () => captured.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A small seeded generator (mulberry32) of numbers in [0, 1), so that a failure can be reproduced. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The column defaults of `ledger_entries` as `column: expression` (a bulk load changes some within its transaction). */
export async function ledgerDefaults(db: Kysely<Database>): Promise<Record<string, string>> {
  const { rows } = await sql<{ column: string; expression: string }>`
    SELECT a.attname AS column, pg_get_expr(d.adbin, d.adrelid) AS expression
    FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE d.adrelid = 'ledger_entries'::regclass`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.column, r.expression]));
}
