import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { redact } from '../src/redact.ts';

const KEY = 'skey_test_Ab.C+d(e)|f$';

describe('the key, redacted', () => {
  it('in any letter case, every time, and nothing else changes', () => {
    expect(redact(`a ${KEY} b ${KEY.toUpperCase()} c ${KEY.toLowerCase()} d`, [KEY])).toBe('a [REDACTED] b [REDACTED] c [REDACTED] d');
    // Its characters are literal, not a pattern: a near miss stays.
    expect(redact('skey_test_AbXC+d(e)|f$', [KEY])).toBe('skey_test_AbXC+d(e)|f$');
    expect(redact('ไทย ſkey_test_ab.c+d(e)|f$', [KEY])).toBe('ไทย ſkey_test_ab.c+d(e)|f$');
    expect(redact(`x ${KEY}`, ['', undefined])).toBe(`x ${KEY}`);
  });

  it('in every log line, whatever field it hides in', () => {
    const lines: string[] = [];
    const logger = createLogger({ secrets: [KEY], destination: { write: (line: string) => void lines.push(line) } });
    logger.warn({ host: `${KEY.toLowerCase()}.example.com` }, `answer mentions ${KEY.toUpperCase()}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.toLowerCase()).not.toContain(KEY.toLowerCase());
    expect(JSON.parse(lines[0]!)).toMatchObject({ host: '[REDACTED].example.com', msg: 'answer mentions [REDACTED]' });
  });
});

describe('a key holding a quote or a backslash', () => {
  it('is redacted as written in JSON too', () => {
    const key = 'skey_test_a"b\\c';
    expect(redact(JSON.stringify({ failure_message: `echo ${key}` }), [key])).toBe('{"failure_message":"echo [REDACTED]"}');
  });
});
