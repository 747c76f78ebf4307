import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/commands/index.ts';
import { ROOT, humanLines, runCli, runCliInProcess } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';

describe('the CLI shell', () => {
  it('lists its commands on --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: kpgw-recon <command>/);
    expect(result.stdout).toMatch(/\bmigrate\b/);
  });

  it('exits 2 with one line and no stack trace on an unknown flag', async () => {
    const result = await runCli(['--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(["kpgw-recon: unknown option '--bogus' (see kpgw-recon --help)"]);
  });

  it('exits 2 with one line on an unknown flag of a command', async () => {
    const result = await runCli(['migrate', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(humanLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/migrate: Unknown option '--frobnicate'/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('has --help on every command', async () => {
    const list = (await runCliInProcess(['--help'])).stdout;
    const names = [...list.matchAll(/^ {2}([\w-]+) /gm)].map((m) => m[1]!);
    expect(names).toEqual(commands.map((c) => c.name));
    for (const name of names) {
      const result = await runCliInProcess([name, '--help']);
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toMatch(new RegExp(`^Usage: kpgw-recon ${name}`));
    }
  });

  it("the README's command table has one row per command, with only flags its --help lists", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const table = readme.split('\n## Commands\n')[1]!.split('\n## ')[0]!;
    const rows = [...table.matchAll(/^\| (`.+?) \| .+ \|$/gm)].map((m) => m[1]!).filter((cell) => !cell.startsWith('`--version'));
    const names = rows.map((cell) => /^`([\w-]+)/.exec(cell)![1]!);
    expect(names.toSorted()).toEqual(commands.map((c) => c.name).toSorted());
    for (const [i, name] of names.entries()) {
      const help = (await runCliInProcess([name, '--help'])).stdout;
      for (const [flag] of rows[i]!.matchAll(/--[a-z][\w-]*/g)) expect(help, `${name} ${flag}`).toMatch(new RegExp(`${flag}(?![\\w-])`));
    }
  });

  it('lists each command under the name of the module it loads', async () => {
    for (const entry of commands) expect((await entry.load()).name).toBe(entry.name);
  });

  it('exits 3 with one line when the database is unreachable', async () => {
    const result = await runCli(['migrate'], { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' } });
    expect(result.code).toBe(3);
    expect(humanLines(result.stderr)).toEqual([expect.stringMatching(/^kpgw-recon: database postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere is unreachable: /)]);
  });

  it('exits 2 with one line for a bad configuration value', async () => {
    const result = await runCli(['migrate'], { env: { KPGW_CONCURRENCY: 'lots' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe("kpgw-recon: KPGW_CONCURRENCY must be a whole number from 1 to 256, got 'lots'");
  });
});

describe('--version', () => {
  it("prints package.json's version, on the CLI and on every command", async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `kpgw-recon ${version}\n`, stderr: '' });
    for (const { name } of commands) {
      // Given with other flags, even ones the command would refuse: asking the version is never an error.
      expect(await runCliInProcess([name, '--bogus', '--version']), name).toEqual({ code: 0, stdout: `kpgw-recon ${version}\n`, stderr: '' });
    }
  });
});

describe('a reader that stops reading', () => {
  it('ends the command quietly with exit 0 (open-items | head), not with "internal error: write EPIPE"', async () => {
    const database = await createTestDatabase();
    // The pipe's reading end is closed before the command writes its first line.
    const result = await runCli(['open-items'], { env: { DATABASE_URL: database.url, LOG_LEVEL: 'warn' }, onSpawn: (child) => child.stdout!.destroy() });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });
});

describe('the CLI loads a command only when it is used', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpgw-modules-'));
    // A module hook, preloaded into the CLI's process, that writes down every module it resolves.
    await writeFile(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
let log;
export function initialize(file) { log = file; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`,
    );
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url, { data: process.env.MODULE_LOG });\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** The commands whose compiled modules (`dist/src/commands/<name>.js`) a run of the real CLI imported. */
  async function commandsImportedBy(args: string[]): Promise<string[]> {
    const log = join(dir, `${args.join(' ')}.log`);
    const result = await runCli(args, { env: { NODE_OPTIONS: `--import=${join(dir, 'register.mjs')}`, MODULE_LOG: log } });
    expect(result.code, result.stderr).toBe(0);
    const urls = new Set((await readFile(log, 'utf8')).split('\n'));
    // The hook saw the CLI itself: an empty log would let the checks below pass for nothing.
    expect(urls).toContain(pathToFileURL(join(ROOT, 'dist/src/cli.js')).href);
    return commands.map((c) => c.name).filter((name) => urls.has(pathToFileURL(join(ROOT, `dist/src/commands/${name}.js`)).href));
  }

  it('--help imports no command', async () => {
    expect(await commandsImportedBy(['--help'])).toEqual([]);
  });

  it('a command imports that command only', async () => {
    expect(await commandsImportedBy(['nightly', '--help'])).toEqual(['nightly']);
  });
});
