import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate, SQL_DIR } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { inject } from 'vitest';
import { admin, withDatabase } from '../helpers/global-setup.ts';
import { randomBytes } from 'node:crypto';

async function emptyDatabase(): Promise<string> {
  const server = inject('pgServerUrl');
  const name = `${inject('pgTemplate').replace(/_template$/, '')}_${randomBytes(4).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  return withDatabase(server, name);
}

async function tables(url: string): Promise<string[]> {
  return admin(url, async (c) =>
    (await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).rows.map((r) => r.t),
  );
}

describe('migrate', () => {
  it('applies every sql/ migration once, and a second call applies none', async () => {
    const url = await emptyDatabase();
    const all = await loadMigrations();
    expect(all.length).toBeGreaterThan(0);
    expect((await migrate(url)).map((m) => m.version)).toEqual(all.map((m) => m.version));
    expect(await migrate(url)).toEqual([]);
    expect(await tables(url)).toContain('ledger_entries');
  });

  it('logs one line for the migrations it applied, and none when the schema was current', async () => {
    const url = await emptyDatabase();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    const all = await loadMigrations();
    await migrate(url, logger);
    expect(lines.map((l) => [l.msg, l.latest])).toEqual([[`applied ${all.length} migrations`, all.at(-1)!.file]]);
    await migrate(url, logger);
    expect(lines).toHaveLength(1);
  });

  it('lets two processes migrate at the same moment: one applies, the other finds nothing to do', async () => {
    const url = await emptyDatabase();
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    const applied = results.map((r) => r.length).sort();
    expect(applied.slice(0, 2)).toEqual([0, 0]);
    expect(applied[2]).toBe((await loadMigrations()).length);
  });

  it('rolls back a failing migration and everything before it in the same call', async () => {
    const url = await emptyDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'kpgw-sql-'));
    await writeFile(join(dir, '0001_good.sql'), 'CREATE TABLE good_one (id int);');
    await writeFile(join(dir, '0002_bad.sql'), 'CREATE TABLE bad_one (id int); SELECT no_such_function();');
    try {
      await expect(migrate(url, undefined, dir)).rejects.toThrow(/0002_bad.sql failed/);
      expect(await tables(url)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives each test file a migrated database of its own', async () => {
    const { url } = await createTestDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
    await client.end();
    expect(rows[0].n).toBe((await loadMigrations()).length);
  });

  it("renames an older database's run drafts (0023): same columns as a new database's, the old names gone", async () => {
    const columns = (url: string) =>
      admin(url, async (c) =>
        (await c.query<{ c: string }>(`
          SELECT table_name || '.' || column_name || ' ' || data_type AS c FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name LIKE 'run\\_%' ORDER BY table_name, ordinal_position`)).rows.map((r) => r.c));
    const fresh = await emptyDatabase();
    await migrate(fresh);
    const older = await emptyDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'kpgw-sql-'));
    try {
      for (const m of (await loadMigrations()).filter((m) => m.version < 23)) await copyFile(join(SQL_DIR, m.file), join(dir, m.file));
      await migrate(older, undefined, dir);
      expect(await tables(older)).toContain('run_staged_charges');
      expect((await migrate(older)).map((m) => m.file)).toContain('0023_run_drafts.sql');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const tablesNow = await tables(older);
    expect(tablesNow).toEqual(expect.arrayContaining(['run_draft_charges', 'run_draft_findings']));
    expect(tablesNow.filter((t) => t.startsWith('run_staged'))).toEqual([]);
    expect(await columns(fresh)).toEqual(expect.arrayContaining(['run_draft_charges.order_id text', 'run_draft_findings.case_no integer']));
    expect(await columns(older)).toEqual(await columns(fresh));
  });
});
