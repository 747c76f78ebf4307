import { constants, type Stats } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReconError } from '../errors.ts';
import { sniffEncoding, type TextEncoding } from './decode.ts';

/**
 * `--ledger` / `--plans` arguments: each a file, or a folder whose `.csv` files are read in name
 * order (a folder's other files, e.g. a README, are ignored). Everything is judged by `stat`
 * alone: a FIFO, a device or a socket is refused by name without ever being opened (opening a
 * FIFO for reading waits for a writer, forever), and so is anything this process cannot read.
 */
export async function expandCsvPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) files.push(...(await csvFilesAt(path)));
  return files;
}

/**
 * Checks a command's `--ledger` or `--plans` paths before anything is ingested: each must be
 * usable (see {@link expandCsvPaths}), and a folder must hold at least one `.csv` file, so an
 * empty export folder is an error rather than "reconciled, nothing wrong".
 */
export async function checkCsvInputs(paths: readonly string[], noun: 'ledger files' | 'plan reports'): Promise<void> {
  for (const path of paths) {
    if (!(await csvFilesAt(path)).length) throw new ReconError('INPUT', `no ${noun} (.csv) in ${path}`);
  }
}

/**
 * A single input file (`--fees`, `--ledger-map`, the inbox's `fees.json`): a readable regular
 * file, checked without opening it. `what` names it in the message, e.g. "the fee schedule".
 */
export async function checkInputFile(path: string, what: string): Promise<void> {
  const info = await statOf(path, `${what} does not exist`);
  if (!info.isFile()) throw new ReconError('INPUT', `${path}: ${what} is not a regular file (${kindOf(info)})`);
  await requireReadable(path);
}

/** The file's encoding, any read failure (permissions, a folder) a usage error naming it. */
export async function encodingOf(file: string): Promise<TextEncoding> {
  try {
    return await sniffEncoding(file);
  } catch (error) {
    throw cannotRead(file, error);
  }
}

async function csvFilesAt(path: string): Promise<string[]> {
  const info = await statOf(path, 'no such file or folder');
  if (info.isFile()) {
    await requireReadable(path);
    return [path];
  }
  if (!info.isDirectory()) throw new ReconError('INPUT', `${path}: not a regular file or folder (${kindOf(info)})`);
  let names: string[];
  try {
    names = await readdir(path);
  } catch (error) {
    throw cannotRead(path, error);
  }
  const files = names.filter((name) => name.toLowerCase().endsWith('.csv')).sort().map((name) => join(path, name));
  // A `.csv` entry is meant as input, so one that is a link to nowhere or not a file is an error
  // (links to files count as files, as they would for a person listing the folder).
  for (const file of files) {
    const entry = await statOf(file, 'a broken link or vanished file');
    if (!entry.isFile()) throw new ReconError('INPUT', `${file}: not a regular file (${kindOf(entry)})`);
    await requireReadable(file);
  }
  return files;
}

async function statOf(path: string, missing: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ReconError('INPUT', `${path}: ${missing}`, { cause: error });
    throw cannotRead(path, error);
  }
}

async function requireReadable(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw cannotRead(path, error);
  }
}

function cannotRead(path: string, error: unknown): ReconError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new ReconError('INPUT', `${path}: cannot be read (${reason})`, { cause: error });
}

/** What a path that is not a regular file is, in words. */
export function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isFile()) return 'a file';
  return 'not a file or folder';
}
