import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { Command } from './commands/command.ts';
import { EXIT, ReconError, exitCodeOf, isReconError, type ExitCode } from './errors.ts';
import { commands } from './commands/index.ts';
import { redact } from './redact.ts';

const USAGE = `kpgw-recon: reconcile a merchant's ledger against KBank's K-Payment Gateway

Usage: kpgw-recon <command> [flags]

Commands:
${commands.map((c) => `  ${c.name.padEnd(Math.max(...commands.map((d) => d.name.length)))} ${c.summary}`).join('\n')}

Run 'kpgw-recon <command> --help' for a command's flags and environment, and
'kpgw-recon --version' for the version; every command, input format, rule and finding code
is described in docs/reference.md.
Exit codes: 0 reconciled clean, 1 findings (mismatches or rejected rows), 2 usage or
configuration error, 3 run aborted.`;

/**
 * The whole CLI: returns the exit code instead of exiting so tests can call it in-process.
 * Human output (usage, help, summaries) goes to `stdout`; log lines and the one-line failures to
 * `stderr`; only the command named is imported.
 */
export async function main(argv: string[], stdout: Writable = process.stdout, stderr: Writable = process.stderr): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(`${USAGE}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') return printVersion(stdout);
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    const what = name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`;
    return fail(stderr, new ReconError('USAGE', `${what} (see kpgw-recon --help)`));
  }
  if (args.includes('--version')) return printVersion(stdout);
  const command = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    stdout.write(`${command.help.trim()}\n`);
    return EXIT.ok;
  }
  return runCommand(command, args, stdout, stderr);
}

/** `kpgw-recon 0.1.0`: the version of package.json, read only when asked. */
async function printVersion(stdout: Writable): Promise<ExitCode> {
  const [{ readFile }, { packagePath }] = await Promise.all([import('node:fs/promises'), import('./package-root.ts')]);
  const { version } = JSON.parse(await readFile(packagePath('package.json'), 'utf8')) as { version: string };
  stdout.write(`kpgw-recon ${version}\n`);
  return EXIT.ok;
}

/** What an entry point (`bin/`, `jobs/`) runs: the CLI as the whole process. */
export async function runAsProcess(argv: string[]): Promise<void> {
  process.exitCode = await main(argv);
  // The command is over; a socket left open by a failed connect must not keep the process alive.
  setTimeout(() => process.exit(), 5_000).unref();
}

async function runCommand(command: Command, args: string[], stdout: Writable, stderr: Writable): Promise<ExitCode> {
  // Imported here rather than at the top: help and usage need none of them (the logger's pino
  // is a third of the CLI's start-up).
  const [{ loadConfig }, { createLogger }, { terminalOf }] = await Promise.all([import('./config/config.ts'), import('./log.ts'), import('./terminal.ts')]);
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    return fail(stderr, error);
  }
  const runId = randomUUID();
  const terminal = process.stderr.isTTY ? terminalOf(process.stderr) : undefined;
  // The process's own stderr is written by file descriptor, synchronously (nothing lost on exit).
  const destination = stderr === process.stderr ? undefined : { write: (line: string) => stderr.write(line) };
  const logger = createLogger({ level: config.logLevel, secrets: [config.kpgw.secretKey], terminal, destination }).child({
    runId,
    command: command.name,
  });
  const controller = new AbortController();
  const secret = config.kpgw.secretKey;
  let reported = false;
  const report = (error: unknown): ExitCode => {
    reported = true;
    return fail(stderr, error, secret);
  };
  // However the process is stuck (a query that never returns, a server that stopped answering),
  // once stopping has begun it ends within a few seconds, with its one line.
  const exitSoon = () => {
    setTimeout(() => {
      if (!reported) report(controller.signal.reason);
      process.exit(EXIT.aborted);
    }, FORCED_EXIT_MS).unref();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // A second Ctrl-C means "now": the first one is already unwinding cleanly.
      if (!reported) report(controller.signal.reason);
      process.exit(EXIT.aborted);
    }
    logger.warn({ signal }, 'interrupted; stopping');
    controller.abort(new ReconError('INTERRUPTED', `interrupted by ${signal}`));
    exitSoon();
  };
  // A bug that escapes every await (an event handler, a stray promise) stops the run like an
  // interruption does, so the run is still recorded as aborted, and ends the command with exit 3.
  let crash: { error: unknown } | undefined;
  let finished = false;
  const onCrash = (error: unknown) => {
    logger.error({ err: error }, 'internal error');
    if (finished) {
      // Nothing left to record: the command's own result is already out.
      report(error);
      process.exit(EXIT.aborted);
    }
    crash ??= { error };
    if (!controller.signal.aborted) controller.abort(error);
    exitSoon();
  };
  // A reader that went away (`open-items | head -2`) took what it wanted: the command ends
  // quietly, with exit 0, instead of failing on its next write. The handler stays, for a write
  // still queued when the command returns.
  let readerGone = false;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') readerGone = true;
    else onCrash(error);
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    const code = await command.run(args, { config, logger, stdout, stderr, signal: controller.signal, runId });
    return crash ? report(crash.error) : code;
  } catch (error) {
    if (readerGone && (error as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
    // After Ctrl-C the error is often a consequence (a terminal's SIGINT also reaches an embedded
    // PostgreSQL, closing our connections); the interruption is what the user should read.
    const cause = controller.signal.aborted ? controller.signal.reason : error;
    if (!isReconError(cause)) logger.error({ err: error }, 'failed');
    return report(cause);
  } finally {
    finished = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // The crash handlers stay: a crash while the last handles close still ends with exit 3.
  }
}

/** How long an interrupted or crashed command may take to record its run before it is ended. */
const FORCED_EXIT_MS = 5_000;

/** One line on stderr; no stack trace for anything a user can cause. */
function fail(stderr: Writable, error: unknown, secret = ''): ExitCode {
  const reconError = isReconError(error) ? error : undefined;
  let message = reconError ? reconError.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  message = redact(message, [secret]);
  stderr.write(`kpgw-recon: ${message}\n`);
  return reconError ? exitCodeOf(reconError) : EXIT.aborted;
}
