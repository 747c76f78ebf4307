import { describe, expect, it } from 'vitest';
import { FINDING_TEXTS, findingText, NOTIFICATION_CODES } from '../../src/reconcile/finding-texts.ts';
import { MISMATCH_CODES } from '../../src/reconcile/mismatch.ts';

const THAI = /[\u0E00-\u0E7F]/;

describe('one line in Thai and in English for every finding code', () => {
  it('has both texts for every mismatch code and every notification code, and for nothing else', () => {
    const codes = [...new Set([...MISMATCH_CODES, ...NOTIFICATION_CODES])].sort();
    expect(codes.length).toBeGreaterThanOrEqual(35);
    expect(Object.keys(FINDING_TEXTS).sort()).toEqual(codes);
    for (const code of codes) {
      const text = findingText(code);
      expect(text, code).toBeDefined();
      for (const line of [text!.th, text!.en]) {
        expect(line.trim(), code).toBe(line);
        expect(line.length, code).toBeGreaterThan(10);
        expect(line, code).not.toMatch(/[\n\r\t]/);
      }
      // The Thai line is Thai (a code or a brand in Latin letters may sit in it); the English one is not.
      expect(text!.th, code).toMatch(THAI);
      expect(text!.en, code).not.toMatch(THAI);
    }
  });

  it('says nothing of a code it does not know, nor of an inherited name', () => {
    expect(findingText('NO_SUCH_CODE')).toBeUndefined();
    expect(findingText('toString')).toBeUndefined();
  });
});
