import type { Logger } from './log.ts';
import { terminalOf } from './terminal.ts';

export interface Progress {
  update(stage: string, done: number, total?: number): void;
  /** Clears the live line. */
  done(): void;
}

const LOG_EVERY_MS = 5_000;
const DRAW_EVERY_MS = 100;

/**
 * A live line with rate and ETA on a terminal; without one (cron, CI, a pipe) a log line every
 * few seconds instead, so logs stay plain JSON.
 */
export function createProgress(logger: Logger, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  const terminal = terminalOf(stream);
  const started = new Map<string, number>();
  let last = 0;
  return {
    update(stage, done, total) {
      const now = Date.now();
      if (!started.has(stage)) started.set(stage, now);
      const finished = total !== undefined && done >= total;
      if (!finished && now - last < (tty ? DRAW_EVERY_MS : LOG_EVERY_MS)) return;
      last = now;
      const seconds = Math.max((now - started.get(stage)!) / 1000, 0.001);
      const rate = done / seconds;
      const eta = total !== undefined && rate > 0 ? Math.round((total - done) / rate) : undefined;
      if (tty) {
        const bar = total ? renderBar(done / total) : '';
        const counts = total !== undefined ? `${done}/${total}` : `${done}`;
        terminal.live(`${stage.padEnd(8)} ${bar} ${counts}  ${rate.toFixed(1)}/s${eta !== undefined ? `  ETA ${formatSeconds(eta)}` : ''}`);
      } else {
        logger.info({ stage, done, total, ratePerSecond: Math.round(rate), etaSeconds: eta }, 'progress');
      }
    },
    done() {
      terminal.clear();
    },
  };
}

function renderBar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function formatSeconds(total: number): string {
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
