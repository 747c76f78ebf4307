import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedDatabase } from '../../src/db/embedded.ts';
import { buildCharge } from '../../src/sample/charge-builder.ts';
import { ledgerCsv } from '../../src/sample/sample-files.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { withDatabase } from '../helpers/global-setup.ts';
import { humanLines, runCli } from '../helpers/cli.ts';
import { startOwnServer, type OwnServer } from '../helpers/own-server.ts';

/**
 * Databases that fail in ways a user can act on: one with every connection slot taken, one
 * without SSL asked for SSL, one dropped while a run waits on the gateway. Each is exit 3 with
 * one line naming the cause, never "internal error". A server of this file's own, so its
 * connection limit can be small.
 */
const SLOTS = 20;
const KEY = 'skey_test_hostile_db_0123456789';
const D = '2026-07-01';
let own: OwnServer;
let parent: string;
let server: EmbeddedDatabase;
let simulator: Simulator;

beforeAll(async () => {
  own = await startOwnServer('kpgw-hostile-db-', { max_connections: String(SLOTS), superuser_reserved_connections: '0', reserved_connections: '0' });
  ({ server, dir: parent } = own);
  const charge = buildCharge({ key: 'hostile-db', date: D, amount: '100.00' });
  await writeFile(join(parent, 'ledger.csv'), ledgerCsv(charge.ledger));
  // Every answer hangs: a run waits on the gateway for as long as the test needs.
  simulator = await startSimulator({ secretKey: KEY, charges: [charge.gateway], faults: { random: { hang: 1 } } });
});
afterAll(async () => {
  await simulator?.close();
  await own?.stop();
});

const where = (url: string) => {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString().replace(/:@/, '@');
};

describe('a database that fails', () => {
  it('with every connection slot taken: exit 3, one line saying so', async () => {
    const held: pg.Client[] = [];
    try {
      for (let i = 0; i < SLOTS; i++) {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        held.push(client);
      }
      const result = await runCli(['migrate'], { env: { DATABASE_URL: server.url } });
      expect(result.code, result.stderr).toBe(3);
      expect(humanLines(result.stderr)).toEqual([
        `kpgw-recon: database ${where(server.url)} is unreachable: sorry, too many clients already (the server's max_connections are all in use; try again when fewer clients are connected)`,
      ]);
    } finally {
      for (const client of held) await client.end();
    }
  }, 120_000);

  it('asked for SSL it does not have: exit 3, one line saying so', async () => {
    const url = `${server.url}?sslmode=require`;
    const result = await runCli(['migrate'], { env: { DATABASE_URL: url } });
    expect(result.code, result.stderr).toBe(3);
    // pg warns (on its own lines) about how it reads sslmode; the command's line is the last.
    expect(humanLines(result.stderr).at(-1)).toBe(`kpgw-recon: database ${where(url)} is unreachable: the server does not support SSL, which DATABASE_URL asks for (sslmode)`);
  }, 120_000);

  it('dropped while a run waits on the gateway: exit 3, one line naming it', async () => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    let dropped: Promise<unknown> = Promise.resolve();
    try {
      await admin.query('CREATE DATABASE doomed');
      const url = withDatabase(server.url, 'doomed');
      simulator.resetStats();
      const result = await runCli(['run', '--from', D, '--ledger', join(parent, 'ledger.csv'), '--out', join(parent, 'out')], {
        env: { DATABASE_URL: url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: KEY, KPGW_TIMEOUT_MS: '120000', LOG_LEVEL: 'warn' },
        onSpawn: () => {
          // Once the run has asked the gateway, it is mid-run with its database in use.
          dropped = (async () => {
            while (simulator.stats().total === 0) await new Promise((resolve) => setTimeout(resolve, 50));
            await admin.query('DROP DATABASE doomed WITH (FORCE)');
          })();
        },
      });
      expect(result.code, result.stderr).toBe(3);
      expect(humanLines(result.stderr)).toEqual([`kpgw-recon: database ${where(url)} no longer exists (dropped while the command ran?); nothing more could be recorded in it`]);
      await dropped;
    } finally {
      // Awaited before the client closes, so a failed drop is this test's failure, not a stray one.
      await dropped.catch(() => undefined);
      await admin.end();
    }
  }, 120_000);
});
