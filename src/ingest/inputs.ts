import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReconError } from '../errors.ts';
import { sniffEncoding, type TextEncoding } from './decode.ts';

/**
 * `--ledger` / `--plans` arguments: each a file, or a folder whose `.csv` files are read in name
 * order (a folder's other files, e.g. a README, are ignored). A path that does not exist is a
 * usage error naming it.
 */
export async function expandCsvPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new ReconError('INPUT', `${path}: no such file or folder`, { cause: error });
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith('.csv'))
      .map((entry) => entry.name)
      .sort();
    files.push(...names.map((name) => join(path, name)));
  }
  return files;
}

/** The file's encoding, any read failure (permissions, a folder) a usage error naming it. */
export async function encodingOf(file: string): Promise<TextEncoding> {
  try {
    return await sniffEncoding(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ReconError('INPUT', `${file}: cannot be read (${reason})`, { cause: error });
  }
}
