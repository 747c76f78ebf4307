import { describe, expect, it } from 'vitest';
import { SANDBOX_BASE_URL, loadConfig } from '../../src/config/config.ts';
import { ReconError } from '../../src/errors.ts';
import { normaliseBaseUrl } from '../../src/config/base-url.ts';

function refusal(text: string): ReconError {
  try {
    normaliseBaseUrl(text);
  } catch (error) {
    if (error instanceof ReconError) return error;
    throw error;
  }
  throw new Error(`${text} was accepted`);
}

describe('KPGW_BASE_URL', () => {
  it.each([
    ['https://kpgw.example.com', 'https://kpgw.example.com'],
    ['https://KPGW.example.com:443/api//', 'https://kpgw.example.com/api'],
    ['https://kpgw.example.com:8443/', 'https://kpgw.example.com:8443'],
    ['http://127.0.0.1:4010', 'http://127.0.0.1:4010'],
    ['http://127.9.8.7/', 'http://127.9.8.7'],
    ['http://localhost:4010/', 'http://localhost:4010'],
    ['http://[::1]:4010', 'http://[::1]:4010'],
  ])('%s is accepted as %s', (text, normalised) => {
    expect(normaliseBaseUrl(text)).toBe(normalised);
  });

  it.each([
    ['http://kpgw.example.com', "KPGW_BASE_URL 'http://kpgw.example.com' must use https:// (plain http:// is allowed only to this machine: localhost, 127.0.0.0/8, ::1)"],
    ['http://128.0.0.1', "KPGW_BASE_URL 'http://128.0.0.1' must use https:// (plain http:// is allowed only to this machine: localhost, 127.0.0.0/8, ::1)"],
    ['http://localhost.evil.example', "KPGW_BASE_URL 'http://localhost.evil.example' must use https:// (plain http:// is allowed only to this machine: localhost, 127.0.0.0/8, ::1)"],
    ['ftp://kpgw.example.com', "KPGW_BASE_URL 'ftp://kpgw.example.com' must be an https:// URL"],
    ['kpgw.example.com', "KPGW_BASE_URL 'kpgw.example.com' is not a URL"],
    ['https://kpgw.example.com/?debug=1', "KPGW_BASE_URL 'https://kpgw.example.com/?debug=1' must have no query or fragment"],
    ['https://kpgw.example.com/#x', "KPGW_BASE_URL 'https://kpgw.example.com/#x' must have no query or fragment"],
  ])('%s is a configuration error', (text, message) => {
    expect(refusal(text)).toMatchObject({ code: 'CONFIG', message });
  });

  it('credentials in the URL are refused without repeating them', () => {
    for (const text of ['https://merchant:s3cret@kpgw.example.com', 'https://s3cret@kpgw.example.com', 'http://u:s3cret@127.0.0.1:1']) {
      const error = refusal(text);
      expect(error.code).toBe('CONFIG');
      expect(error.message).toBe('KPGW_BASE_URL must not contain a user name or password (the secret key is KPGW_SECRET_KEY)');
      expect(error.message).not.toContain('s3cret');
    }
  });

  it('is checked by loadConfig, and the default (the sandbox) passes', () => {
    expect(loadConfig({}).kpgw.baseUrl).toBe(SANDBOX_BASE_URL);
    expect(loadConfig({ KPGW_BASE_URL: 'http://127.0.0.1:4010/' }).kpgw.baseUrl).toBe('http://127.0.0.1:4010');
    expect(() => loadConfig({ KPGW_BASE_URL: 'http://kpgw.example.com' })).toThrow(/^KPGW_BASE_URL 'http:\/\/kpgw.example.com' must use https:\/\//);
  });
});
