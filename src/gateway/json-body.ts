import { parse } from 'lossless-json';

/**
 * A JSON number as the text the gateway sent. `JSON.parse` turns `10.7000` into 10.7,
 * 40 digits into a rounded double and `1e400` into `Infinity` before we can look at them;
 * keeping the text lets a figure be read exactly or refused as out of range.
 */
export class JsonNumber {
  constructor(readonly text: string) {}

  /** `JSON.stringify` writes a plain number, as it did for the body `JSON.parse` gave. */
  toJSON(): number {
    return Number(this.text);
  }
}

/**
 * Parses an answer body with every number a {@link JsonNumber}. lossless-json (pinned): Node 20's
 * `JSON.parse` has no access to a number's source text, and this parser is small, has no
 * dependencies and is maintained (by the author of mathjs). It is strict JSON and also refuses a
 * key repeated with another value, which `JSON.parse` would silently resolve to the last one.
 * @throws SyntaxError when the text is not JSON.
 */
export function parseJsonBody(text: string): unknown {
  return parse(text, null, (number) => new JsonNumber(number));
}
