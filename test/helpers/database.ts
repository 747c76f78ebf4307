import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, inject } from 'vitest';
import { createKysely } from '../../src/db/connection.ts';
import type { Database } from '../../src/db/database.ts';
import { admin, withDatabase } from './global-setup.ts';

export interface TestDatabase {
  readonly url: string;
  readonly db: Kysely<Database>;
}

/**
 * A fresh, migrated database of this test file's own, cloned from the run's template and
 * dropped after the file's tests. Call at the top level of a test file.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('pgServerUrl');
  const template = inject('pgTemplate');
  const name = `${template.replace(/_template$/, '')}_${randomBytes(4).toString('hex')}`;
  // A file copy of the small template: several times cheaper than the default, which writes every
  // page of it through the write-ahead log.
  await admin(serverUrl, (client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`));
  const url = withDatabase(serverUrl, name);
  const db = createKysely(url);
  afterAll(async () => {
    await db.destroy();
    await admin(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });
  return { url, db };
}
