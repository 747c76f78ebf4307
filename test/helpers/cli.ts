import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { main } from '../../src/cli.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/kpgw-recon.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called once the process is running, e.g. to signal it. */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/**
 * Runs the real CLI in a child process, as a user or cron would. Only the `e2e` project builds
 * the compiled CLI first (build-cli.ts), so a file that starts it is named `*.e2e.test.ts`.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  if (!inject('cliBuilt')) return Promise.reject(new Error('runCli starts the compiled CLI, which only the e2e tier builds: name the test file *.e2e.test.ts'));
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'info', ...options.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    options.onSpawn?.(child);
  });
}

/**
 * Runs the CLI in this process, its human output captured: for tests of what a command prints
 * before it does anything (help, usage), without the start-up of a process each.
 */
export async function runCliInProcess(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => ((stdout += String(chunk)), done()) });
  const code = await main(args, sink);
  return { code, stdout };
}

/** stderr lines that are not pino JSON: what a human sees. */
export function humanLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() && !line.startsWith('{'));
}
