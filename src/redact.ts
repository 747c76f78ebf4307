/** What stands where a secret was. */
export const REDACTED = '[REDACTED]';

/**
 * A function that replaces every occurrence of each secret (the KPGW key), in any letter case and
 * also as a JSON string writes it (a key holding `"` or `\`: log lines and answers are JSON), by
 * {@link REDACTED}. Letter case counts for nothing: a host name comes back lower-cased, and a
 * hostile gateway may echo the key upper-cased. Only ASCII letters fold (the key is ASCII), so
 * nothing else in the text changes. The pattern is built once: logs and answers call it per line.
 */
export function redactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const given = secrets.filter((s): s is string => !!s);
  const usable = [...new Set([...given, ...given.map((s) => JSON.stringify(s).slice(1, -1))])];
  if (!usable.length) return (text) => text;
  // Longest first, so that a key that contains another is replaced whole.
  const pattern = new RegExp(usable.sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'gi');
  return (text) => text.replace(pattern, REDACTED);
}

/** {@link redactor} for one text. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return redactor(secrets)(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
