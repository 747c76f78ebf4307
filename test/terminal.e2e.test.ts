import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { createProgress } from '../src/progress.ts';
import { buildCharge } from '../src/sample/charge-builder.ts';
import { ledgerCsv } from '../src/sample/sample-files.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { terminalOf } from '../src/terminal.ts';
import { ROOT } from './helpers/cli.ts';
import { createTestDatabase } from './helpers/database.ts';

const CLEAR = '\r\x1b[2K';
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

function fakeTerminal() {
  const chunks: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) }) as unknown as NodeJS.WriteStream;
  stream.isTTY = true;
  return { stream, text: () => chunks.join('') };
}

describe('on a terminal', () => {
  it('prints readable log lines above the progress bar and draws the bar again after each', () => {
    const out = fakeTerminal();
    const logger = createLogger({ level: 'info', terminal: terminalOf(out.stream), secrets: ['skey_test_terminal_secret'] });
    const progress = createProgress(logger, out.stream);
    progress.update('inquiry', 0, 10);
    logger.warn({ path: '/card/v2/charge/x', key: 'skey_test_terminal_secret' }, 'inquiry failed');
    const text = plain(out.text());
    const [before, after] = text.split('inquiry failed');
    // the bar was cleared before the line, and drawn again after it
    expect(before!.lastIndexOf(CLEAR)).toBeGreaterThan(before!.indexOf('inquiry  ['));
    expect(after).toMatch(/^[^\n]*\ninquiry {2}\[\.{24}\] 0\/10/);
    expect(text).toMatch(/WARN.*inquiry failed/);
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain('skey_test_terminal_secret');
    progress.done();
    logger.info('after the bar');
    expect(plain(out.text())).toMatch(/after the bar\n$/); // no bar drawn again once done
  });

  it('shows plain fields as key=value, leaves nested ones to the JSON logs, and cuts a line to the width', () => {
    const out = fakeTerminal();
    (out.stream as { columns?: number }).columns = 80;
    const logger = createLogger({ level: 'info', terminal: terminalOf(out.stream) }).child({ runId: 'r-1', command: 'run' });
    logger.info({ counts: { charges: 3000, matched: 2816 }, exitCode: 1, reportDir: '/tmp/my reports' }, 'run finished');
    logger.error({ err: new Error('connect ECONNREFUSED 127.0.0.1:5432\n    at stack') }, 'failed');
    logger.info({ file: 'a'.repeat(200) }, 'ingesting');
    const lines = plain(out.text()).split('\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: run finished {2}exitCode=1 {2}reportDir="\/tmp\/my reports"$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] ERROR: failed {2}error: connect ECONNREFUSED 127\.0\.0\.1:5432$/);
    expect(lines[2]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: ingesting {2}file=a+…$/);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
  });
});

describe('kpgw-recon run under a pseudo-terminal', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('shows the progress bar and human lines, and no JSON', async () => {
    const database = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'kpgw-tty-'));
    dirs.push(dir);
    const charges = Array.from({ length: 30 }, (_, i) => buildCharge({ key: `tty-${i}`, date: '2026-07-01', amount: `${100 + i}.00` }));
    await writeFile(join(dir, 'ledger.csv'), ledgerCsv(charges.flatMap((c) => c.ledger)));
    const key = 'skey_test_pseudo_terminal';
    const simulator = await startSimulator({ secretKey: key, charges: charges.map((c) => c.gateway), faults: { latencyMs: 20 } });
    try {
      const command = `node bin/kpgw-recon.js run --from 2026-07-01 --ledger ${join(dir, 'ledger.csv')} --out ${join(dir, 'out')}`;
      // script(1) gives the command a pseudo-terminal: what a person at a terminal sees.
      const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: database.url, KPGW_BASE_URL: simulator.url, KPGW_SECRET_KEY: key, KPGW_RATE_LIMIT_RPS: '200', KPGW_CONCURRENCY: '2', LOG_LEVEL: 'info' },
      });
      const screen = plain(stdout);
      expect(screen).toMatch(/inquiry +\[[#.]{24}\] \d+\/30/);
      expect(screen).toMatch(/INFO.*run started/);
      expect(screen).toMatch(/charges\s+30\s+matched 30/);
      expect(screen).not.toMatch(/\{"level"/);
    } finally {
      await simulator.close();
    }
  });
});
