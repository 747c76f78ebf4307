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

/**
 * pino-pretty's formatting of each (already scrubbed) JSON line, printed above the live line: the
 * time, the level and the message with its plain fields as `key=value`, cut to the terminal's
 * width. Nested fields (a run's counts) are for the JSON logs; on a terminal the summary says them.
 */
function readableLines(terminal: Terminal): DestinationStream {
  // Loaded here, only on a terminal: cron, CI and pipes do not pay for it at start-up.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const pretty = prettyFactory({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    hideObject: true,
    messageFormat: (log, messageKey) => fitTo(humanMessage(log, messageKey), terminal.columns() - PREFIX_WIDTH),
  });
  return { write: (line: string) => terminal.print(`${pretty(line).trimEnd()}\n`) };
}

/** `[12:34:56] ERROR: `, the widest prefix pino-pretty puts before the message. */
const PREFIX_WIDTH = 19;
/** Fields every line carries, or that say nothing to a person at the terminal. */
const QUIET_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'runId', 'command', 'component', 'stage', 'worker', 'scope']);

/** The message, then each plain field as `key=value` (text quoted when it has spaces), then the error's message. */
export function humanMessage(log: Record<string, unknown>, messageKey = 'msg'): string {
  const parts = [String(log[messageKey] ?? '')];
  for (const [key, value] of Object.entries(log)) {
    if (key === messageKey || QUIET_FIELDS.has(key)) continue;
    if (typeof value === 'number' || typeof value === 'boolean') parts.push(`${key}=${value}`);
    else if (typeof value === 'string') parts.push(`${key}=${/[\s"]/.test(value) || value === '' ? JSON.stringify(value) : value}`);
  }
  const err = log.err as { message?: unknown } | undefined;
  if (typeof err?.message === 'string') parts.push(`error: ${err.message.split('\n')[0]}`);
  return parts.join('  ');
}

/** Cut to `width` characters with an ellipsis, so a line never wraps into the next. */
export function fitTo(text: string, width: number): string {
  const room = Math.max(width, 20);
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
}
