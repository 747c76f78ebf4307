import { describe, expect, it } from 'vitest';
import { humanLines, runCli } from '../helpers/cli.ts';

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
    const list = (await runCli(['--help'])).stdout;
    const names = [...list.matchAll(/^ {2}([\w-]+) /gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const result = await runCli([name, '--help']);
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toMatch(new RegExp(`Usage: kpgw-recon ${name}`));
    }
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
