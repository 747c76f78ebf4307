import { ReconError } from '../errors.ts';

/**
 * `KPGW_BASE_URL` checked and normalised (no trailing slash). Every request carries the secret
 * key, so the URL must be one the key may travel to: `https://`, or plain `http://` only to this
 * machine (the simulator and tests), with no credentials, query or fragment that would be sent
 * along or silently dropped.
 * @throws ReconError `CONFIG` with one line naming KPGW_BASE_URL.
 */
export function normaliseBaseUrl(text: string): string {
  const fail = (why: string): never => {
    throw new ReconError('CONFIG', `KPGW_BASE_URL ${why}`);
  };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`'${text}' is not a URL`);
  }
  // Checked first so the message never repeats a password.
  if (url.username || url.password) return fail('must not contain a user name or password (the secret key is KPGW_SECRET_KEY)');
  if (/[?#]/.test(text)) return fail(`'${text}' must have no query or fragment`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    fail(`'${text}' must use https:// (plain http:// is allowed only to this machine: localhost, 127.0.0.0/8, ::1)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`'${text}' must be an https:// URL`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** `hostname` as `URL` normalises it: IPv4 in dotted decimal, IPv6 in brackets, names lower-case. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
