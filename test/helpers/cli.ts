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
  /** Node's own options, before the script. */
  nodeArgs?: string[];
  /** A command that runs node, e.g. in a mount namespace of its own (`unshare …`); node's path and arguments follow it. */
  prefix?: string[];
}

/**
 * Runs the real CLI in a child process, as a user or cron would. Only the `e2e` project builds
 * the compiled CLI first (build-cli.ts), so a file that starts it is named `*.e2e.test.ts`; a
 * benchmark (not under vitest) builds it itself.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  if (process.env.VITEST && !inject('cliBuilt')) return Promise.reject(new Error('runCli starts the compiled CLI, which only the e2e tier builds: name the test file *.e2e.test.ts'));
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'info', ...options.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const command = [...(options.prefix ?? []), process.execPath, ...(options.nodeArgs ?? []), BIN, ...args];
    const child = spawn(command[0]!, command.slice(1), { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
 * Runs the CLI in this process, its human output captured: for tests of what a command prints,
 * without the start-up of a process each. `env` is set for the call only (the configuration is
 * read from the environment); `stderr` is the command's own lines (logs go to fd 2 directly).
 */
export async function runCliInProcess(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => ((stdout += String(chunk)), done()) });
  const saved = Object.keys(options.env ?? {}).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, options.env);
  const write = process.stderr.write;
  // A command's crash handlers outlive it (see cli.ts); here the process goes on, so they go.
  const crashHandlers = new Set(process.listeners('uncaughtException'));
  const rejectionHandlers = new Set(process.listeners('unhandledRejection'));
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args, sink);
    return { code, stdout, stderr };
  } finally {
    process.stderr.write = write;
    for (const listener of process.listeners('uncaughtException')) if (!crashHandlers.has(listener)) process.off('uncaughtException', listener);
    for (const listener of process.listeners('unhandledRejection')) if (!rejectionHandlers.has(listener)) process.off('unhandledRejection', listener);
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** stderr lines that are not pino JSON: what a human sees. */
export function humanLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() && !line.startsWith('{'));
}
