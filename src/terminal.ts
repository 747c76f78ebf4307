/**
 * A terminal shared by the log and the progress bar. Log lines are printed above the one live line
 * (the bar is cleared, the line printed, the bar drawn again), so neither breaks the other.
 */
export interface Terminal {
  /** Prints finished text (a log line, ending in a newline) above the live line. */
  print(text: string): void;
  /** Replaces the live line. */
  live(text: string): void;
  /** Removes the live line. */
  clear(): void;
  /** Characters per line (80 when the stream does not say). */
  columns(): number;
}

const CLEAR_LINE = '\r\x1b[2K';
const terminals = new WeakMap<NodeJS.WritableStream, Terminal>();

/** The one {@link Terminal} of a stream, so the logger and the progress bar share its live line. */
export function terminalOf(stream: NodeJS.WritableStream): Terminal {
  let terminal = terminals.get(stream);
  if (!terminal) {
    let line = '';
    terminal = {
      print(text) {
        stream.write(line ? `${CLEAR_LINE}${text}${line}` : text);
      },
      live(text) {
        line = text;
        stream.write(`${CLEAR_LINE}${text}`);
      },
      clear() {
        if (line) stream.write(CLEAR_LINE);
        line = '';
      },
      columns: () => (stream as { columns?: number }).columns || 80,
    };
    terminals.set(stream, terminal);
  }
  return terminal;
}
