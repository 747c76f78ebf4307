import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from '../../src/config/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';

/** A guide sample from `test/fixtures/guide/` as parsed JSON. */
export function guideSample(name: string): Record<string, unknown> {
  const path = fileURLToPath(new URL(`../fixtures/guide/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** A logger whose JSON lines are kept in `lines` (pino's `sink()` idea), with no redaction backstop. */
export function capturingLogger(level = 'trace'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines };
}

export const TEST_KEY = 'skey_test_5fQ9xKp2ZrLw7VnB3mHd';

/**
 * A client config for the simulator at `url`: generous limits unless overridden. The timeout is
 * far above any answer's time on a busy machine, so no test's count of attempts depends on the
 * load; tests of timeouts set their own.
 */
export function gatewayConfig(url: string, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    baseUrl: url,
    secretKey: TEST_KEY,
    rateLimitRps: 1000,
    concurrency: 4,
    timeoutMs: 5_000,
    maxRetries: 3,
    ...overrides,
  };
}

/** Backoff for tests: a few ms instead of half a second. */
export const FAST = { backoff: { baseMs: 5, capMs: 40 } } as const;
