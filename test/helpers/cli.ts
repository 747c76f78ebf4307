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
 * Commands that are servers or start processes of their own: always a process of their own, as
 * they hold ports, signal handlers or a PostgreSQL until they are stopped.
 */
const OWN_PROCESS = new Set(['demo', 'simulator', 'notify-receiver', 'worker']);

/**
 * This process's own environment while an in-process command has changed it: a second command
 * at the same time gets a process, started from this rather than from the first one's.
 */
let outerEnv: NodeJS.ProcessEnv | undefined;

/**
 * Runs the CLI as a user or cron would, with the environment given and nothing else of this
 * process's: its exit code, stdout and stderr (the one-line failures and the JSON log lines).
 *
 * A command starts as a process of its own when the test needs one (to signal it, node options
 * or NODE_OPTIONS, another working folder, a server command, the embedded PostgreSQL that a missing DATABASE_URL
 * starts). Otherwise it is `main()` called in this process: the same parsing,
 * configuration, command and exit code, without the second or so of CPU a process costs to start
 * on a busy machine, hundreds of times over in this suite. What only a process shows (its start,
 * signals, a closed pipe, a crash) is tested with one.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...(outerEnv ?? process.env), LOG_LEVEL: 'info', ...options.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const ownProcess =
    options.onSpawn ||
    options.nodeArgs ||
    options.env?.NODE_OPTIONS !== undefined ||
    options.prefix ||
    options.cwd ||
    OWN_PROCESS.has(args[0]!) ||
    env.DATABASE_URL === undefined ||
    outerEnv !== undefined;
  if (!ownProcess) return inThisProcess(args, env as Record<string, string>);
  if (process.env.VITEST && !inject('cliBuilt')) return Promise.reject(new Error('runCli starts the compiled CLI, which only the e2e tier builds: name the test file *.e2e.test.ts'));
  return new Promise((resolve, reject) => {
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

/** `main()` with `env` as the whole environment for the call, as a process would have it. */
async function inThisProcess(args: string[], env: Record<string, string>): Promise<CliResult> {
  return { ...(await withEnvironment(env, 'whole', () => captured(args))), signal: null };
}

/**
 * Runs the CLI in this process, its output captured: for tests of what a command prints. `env`
 * is added to this process's environment for the call only (the configuration is read from it).
 */
export function runCliInProcess(args: string[], options: { env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return withEnvironment(options.env ?? {}, 'added', () => captured(args));
}

/**
 * `work` with `env` in `process.env`, as the whole of it or added to it; afterwards the environment
 * is this process's own again (`outerEnv` holds it meanwhile, for a command started beside).
 */
async function withEnvironment<T>(env: Record<string, string>, as: 'whole' | 'added', work: () => Promise<T>): Promise<T> {
  const saved = (outerEnv = { ...process.env });
  if (as === 'whole') for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return await work();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    outerEnv = undefined;
  }
}

/** `main()` with its stdout and stderr captured. */
async function captured(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (append(String(chunk)), done()) });
  // A command's crash handlers outlive it (see cli.ts); here the process goes on, so they go.
  const crashHandlers = new Set(process.listeners('uncaughtException'));
  const rejectionHandlers = new Set(process.listeners('unhandledRejection'));
  try {
    const code = await main(args, sink((text) => (stdout += text)), sink((text) => (stderr += text)));
    return { code, stdout, stderr };
  } finally {
    for (const listener of process.listeners('uncaughtException')) if (!crashHandlers.has(listener)) process.off('uncaughtException', listener);
    for (const listener of process.listeners('unhandledRejection')) if (!rejectionHandlers.has(listener)) process.off('unhandledRejection', listener);
  }
}

/** stderr lines that are not pino JSON: what a human sees. */
export function humanLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() && !line.startsWith('{'));
}
