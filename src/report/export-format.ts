import iconv from 'iconv-lite';
import { BUDDHIST_ERA_OFFSET } from '../ingest/values.ts';

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
