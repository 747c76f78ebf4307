import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Literal values (the secret key) scrubbed from every line, whatever field they hide in. */
  secrets?: readonly string[];
  /** Defaults to stderr; tests pass a capturing stream. */
  destination?: DestinationStream;
}

/**
 * JSON lines on stderr. Redaction by path catches the fields we know hold the key; the
 * `streamWrite` hook is the backstop for the key turning up anywhere else (an error message
 * quoting a URL or header, say).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: {
        paths: ['secretKey', '*.secretKey', '*.*.secretKey', 'headers["x-api-key"]', '*.headers["x-api-key"]'],
        censor: '[REDACTED]',
      },
      hooks: secrets.length
        ? { streamWrite: (line: string) => scrub(line, secrets) }
        : {},
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[REDACTED]');
  return out;
}
