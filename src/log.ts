import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';
import { redactor } from './redact.ts';
import type { Terminal } from './terminal.ts';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Literal values (the secret key) scrubbed from every line, in any letter case, whatever field they hide in. */
  secrets?: readonly string[];
  /** Defaults to stderr; tests pass a capturing stream. */
  destination?: DestinationStream;
  /** On a terminal: readable lines (pino-pretty) printed above the progress bar, instead of JSON. */
  terminal?: Terminal;
}

/**
 * JSON lines on stderr (or, on a terminal, the same lines made readable). Redaction by path catches the fields we know hold the key; the
 * `streamWrite` hook is the backstop for the key turning up anywhere else (an error message
 * quoting a URL or header, say).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  const scrubLine = redactor(secrets);
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: {
        paths: ['secretKey', '*.secretKey', '*.*.secretKey', 'headers["x-api-key"]', '*.headers["x-api-key"]'],
        censor: '[REDACTED]',
      },
      hooks: secrets.length
        ? { streamWrite: scrubLine }
        : {},
    },
    options.destination ?? (options.terminal ? readableLines(options.terminal) : pino.destination({ fd: 2, sync: true })),
  );
}

/** pino-pretty's formatting of each (already scrubbed) JSON line, printed above the live line. */
function readableLines(terminal: Terminal): DestinationStream {
  // Loaded here, only on a terminal: cron, CI and pipes do not pay for it at start-up.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const pretty = prettyFactory({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,runId,command,component,stage' });
  return { write: (line: string) => terminal.print(pretty(line)) };
}
