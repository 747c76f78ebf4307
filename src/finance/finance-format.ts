import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import iconv from 'iconv-lite';
import { ReconError } from '../errors.ts';
import { BUDDHIST_ERA_OFFSET } from '../vocabulary.ts';

/**
 * How a finance CSV is written for the tool that reads it (contract §6): UTF-8 with a BOM for
 * Excel, or Windows-874 (TIS-620 plus a few symbols) for Thai accounting packages that read
 * nothing else; dates ISO or Thai style with Buddhist-era years.
 */
export const EXPORT_ENCODINGS = ['utf8', 'windows-874'] as const;
export type ExportEncoding = (typeof EXPORT_ENCODINGS)[number];

export const DATE_STYLES = ['iso', 'be'] as const;
export type DateStyle = (typeof DATE_STYLES)[number];

export interface ExportFormat {
  readonly encoding: ExportEncoding;
  readonly dates: DateStyle;
}

export const DEFAULT_EXPORT_FORMAT: ExportFormat = { encoding: 'utf8', dates: 'iso' };

/** `YYYY-MM-DD` as the format wants it: unchanged, or `DD/MM/YYYY` with the year CE + 543. */
export function formatExportDate(iso: string, style: DateStyle): string {
  if (style === 'iso') return iso;
  const [year, month, day] = iso.split('-');
  return `${day}/${month}/${Number(year) + BUDDHIST_ERA_OFFSET}`;
}

/**
 * The first character of `value` the encoding cannot hold (an emoji, Chinese, `€` is fine), or
 * `undefined`. iconv-lite would write `?` for it: a reference silently changed in the books.
 */
export function unencodableCharacter(value: string, encoding: ExportEncoding): string | undefined {
  if (encoding === 'utf8' || roundTrips(value)) return undefined;
  return [...value].find((character) => !roundTrips(character));
}

function roundTrips(text: string): boolean {
  return iconv.decode(iconv.encode(text, 'windows-874'), 'windows-874') === text;
}

/** Whether the file starts with a BOM, and the stream that turns CSV text into the file's bytes. */
export function outputEncoding(encoding: ExportEncoding): { bom: boolean; encoder: NodeJS.ReadWriteStream | undefined } {
  // Windows-874 has no byte-order mark; a BOM's bytes would show as junk in the first cell.
  return encoding === 'utf8' ? { bom: true, encoder: undefined } : { bom: false, encoder: iconv.encodeStream('windows-874') };
}

/**
 * Throws the user's error for a cell the encoding cannot hold, naming the row (`where`, e.g.
 * `export row 3 (charge chrg_1, 2026-01-05)`) and the column: never a silent `?` in the books.
 */
export function checkEncodable(value: string, encoding: ExportEncoding, where: () => string, column: string): void {
  const bad = unencodableCharacter(value, encoding);
  if (bad === undefined) return;
  const codePoint = `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  throw new ReconError('INPUT', `${where()}: ${column} holds '${bad}' (${codePoint}), which ${encoding} cannot hold; export with --encoding utf8`);
}

/**
 * Writes a finance CSV in the format's encoding: `fill` writes the records (waiting on `drain`),
 * into a temporary file renamed at the end, so a failure (a character the encoding cannot hold)
 * leaves nothing behind.
 */
export async function writeFinanceCsv<T>(
  file: string,
  columns: readonly string[],
  encoding: ExportEncoding,
  fill: (csv: Stringifier) => Promise<T>,
): Promise<T> {
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp);
  const { bom, encoder } = outputEncoding(encoding);
  const csv = stringify({ header: true, columns: [...columns], bom });
  // The encoder takes text: csv-stringify hands out UTF-8 bytes unless told otherwise.
  if (encoder) csv.setEncoding('utf8');
  const written = encoder ? csv.pipe(encoder).pipe(out) : csv.pipe(out);
  try {
    const result = await fill(csv);
    csv.end();
    await once(written as Writable, 'finish');
    await rename(tmp, file);
    return result;
  } catch (error) {
    csv.destroy();
    out.destroy();
    // The stream opens its file asynchronously: removed before it has closed, the file could be
    // created again behind our back. Once it is closed, it stays removed.
    if (!out.closed) await once(out, 'close');
    await rm(tmp, { force: true });
    throw error;
  }
}
