import { chmod, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

/** PostgreSQL server processes whose data directory lies under `dir`. */
async function postgresProcessesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('postgres') && cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

async function freshCwd(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kpgw-cwd-'));
  await chmod(dir, 0o755);
  return dir;
}

async function waitFor(predicate: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

const EMBEDDED = { DATABASE_URL: undefined };

describe('the embedded PostgreSQL', () => {
  it('serves two migrate processes started at the same moment and leaves no server behind', async () => {
    const cwd = await freshCwd();
    const [a, b] = await Promise.all([runCli(['migrate'], { cwd, env: EMBEDDED }), runCli(['migrate'], { cwd, env: EMBEDDED })]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    expect(await postgresProcessesUnder(cwd)).toEqual([]);
    const again = await runCli(['migrate'], { cwd, env: EMBEDDED });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/schema is current/);
    expect(await postgresProcessesUnder(cwd)).toEqual([]);
  });

  it('stops its server when the command is interrupted with SIGINT', async () => {
    const cwd = await freshCwd();
    const result = await runCli(['migrate'], {
      cwd,
      env: EMBEDDED,
      onSpawn: (child) => {
        // Interrupt as soon as the server is up, before the command could finish on its own.
        void waitFor(async () => (await readFile(join(cwd, '.data/postgres.owner'), 'utf8').catch(() => '')).includes('port')).then(() =>
          child.kill('SIGINT'),
        );
      },
    });
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await postgresProcessesUnder(cwd)).toEqual([]);
    expect((await runCli(['migrate'], { cwd, env: EMBEDDED })).code).toBe(0);
  });

  it('clears the server left by a killed command, and the next command starts cleanly', async () => {
    const cwd = await freshCwd();
    expect((await runCli(['migrate'], { cwd, env: EMBEDDED })).code).toBe(0);
    await runCli(['migrate'], {
      cwd,
      env: EMBEDDED,
      onSpawn: (child) => {
        void waitFor(async () => (await readFile(join(cwd, '.data/postgres.owner'), 'utf8').catch(() => '')).includes('port')).then(() =>
          child.kill('SIGKILL'),
        );
      },
    });
    const next = await runCli(['migrate'], { cwd, env: EMBEDDED });
    expect(next.code, next.stderr).toBe(0);
    expect(await postgresProcessesUnder(cwd)).toEqual([]);
  });
});
