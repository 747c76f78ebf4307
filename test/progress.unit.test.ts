import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { createProgress } from '../src/progress.ts';

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) }) as unknown as NodeJS.WriteStream;
  stream.isTTY = isTTY;
  return { stream, text: () => chunks.join('') };
}

describe('progress', () => {
  it('draws a live line with a bar, rate and ETA on a terminal, and clears it when done', () => {
    const out = capture(true);
    const progress = createProgress(createLogger({ level: 'silent' }), out.stream);
    progress.update('inquiry', 0, 100);
    progress.update('inquiry', 100, 100);
    expect(out.text()).toMatch(/inquiry +\[#{24}\] 100\/100 +[\d.]+\/s {2}ETA 0s/);
    progress.done();
    expect(out.text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('writes plain JSON log lines instead when not on a terminal', () => {
    const out = capture(false);
    const logs = capture(false);
    const progress = createProgress(createLogger({ level: 'info', destination: logs.stream }), out.stream);
    progress.update('inquiry', 50, 100);
    progress.update('inquiry', 100, 100);
    expect(out.text()).toBe('');
    const lines = logs.text().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ msg: 'progress', stage: 'inquiry', done: 100, total: 100 });
  });
});
