import iconv from 'iconv-lite';
import { ReconError } from '../errors.ts';
import { BUDDHIST_ERA_OFFSET } from '../vocabulary.ts';

/**
 * How a finance file is written for the tool that reads it: a CSV in UTF-8 with a BOM for Excel,
 * or in Windows-874 (TIS-620 plus a few symbols) for Thai accounting packages that read nothing
 * else; or an .xlsx workbook with typed cells. Dates ISO, or Thai style with Buddhist-era years.
 */
export const FILE_KINDS = ['csv', 'xlsx'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

export const EXPORT_ENCODINGS = ['utf8', 'windows-874'] as const;
export type ExportEncoding = (typeof EXPORT_ENCODINGS)[number];

export const DATE_STYLES = ['iso', 'be'] as const;
export type DateStyle = (typeof DATE_STYLES)[number];

export interface ExportFormat {
  readonly file: FileKind;
  /** CSV only: a workbook's text is always Unicode. */
  readonly encoding: ExportEncoding;
  readonly dates: DateStyle;
}

export const DEFAULT_EXPORT_FORMAT: ExportFormat = { file: 'csv', encoding: 'utf8', dates: 'iso' };

/** `YYYY-MM-DD` as the format wants it: unchanged, or `DD/MM/YYYY` with the year CE + 543. */
export function formatExportDate(iso: string, style: DateStyle): string {
  if (style === 'iso') return iso;
  const [year, month, day] = iso.split('-');
  return `${day}/${month}/${Number(year) + BUDDHIST_ERA_OFFSET}`;
}

/**
 * The first character of `value` the encoding cannot hold (an emoji, Chinese; `€` is fine), or
 * `undefined`. iconv-lite would write `?` for it: a reference silently changed in the books.
 */
export function unencodableCharacter(value: string, encoding: ExportEncoding): string | undefined {
  if (encoding === 'utf8' || roundTrips(value)) return undefined;
  return [...value].find((character) => !roundTrips(character));
}

function roundTrips(text: string): boolean {
  return iconv.decode(iconv.encode(text, 'windows-874'), 'windows-874') === text;
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
