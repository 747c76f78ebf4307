import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/log.ts';

/** An embedded PostgreSQL of one test file's own, in a temporary folder that also holds the file's other files. */
export interface OwnServer {
  readonly server: EmbeddedDatabase;
  /** The temporary folder (the server's data is under it). */
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * For a test that does to its server what the shared one must not suffer (a restart, a small
 * connection limit): durability off, as in the shared test server, plus `settings`.
 */
export async function startOwnServer(prefix: string, settings: Record<string, string> = {}): Promise<OwnServer> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755); // the server runs as the postgres user when we are root
  const server = await startEmbedded({
    dataDir: join(dir, 'postgres'),
    logger: createLogger({ level: 'silent' }),
    ephemeral: true,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', ...settings },
  });
  return {
    server,
    dir,
    async stop() {
      await server.stop({ force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
