import { constants, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { ReconError } from './errors.ts';

/**
 * A single input file (`--fees`, `--ledger-map`, the inbox's `fees.json`): a readable regular
 * file, checked without opening it. `what` names it in the message, e.g. "the fee schedule".
 */
export async function checkInputFile(path: string, what: string): Promise<void> {
  const info = await statOf(path, `${what} does not exist`);
  if (!info.isFile()) throw new ReconError('INPUT', `${path}: ${what} is not a regular file (${kindOf(info)})`);
  await requireReadable(path);
}

/** A path's `stat`; `missing` says what it is when there is nothing there. */
export async function statOf(path: string, missing: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ReconError('INPUT', `${path}: ${missing}`, { cause: error });
    throw cannotRead(path, error);
  }
}

export async function requireReadable(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw cannotRead(path, error);
  }
}

export function cannotRead(path: string, error: unknown): ReconError {
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
