import { lstat, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ReconError } from '../errors.ts';
import { cannotRead, checkInputFile, kindOf, requireReadable, statOf } from '../input-file.ts';
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
 * The file's encoding, any read failure a usage error naming it. Every CSV reader asks this
 * first, so it is where a path that is not a regular file is refused, before it is opened
 * (`ack --file` naming a FIFO or `/dev/zero` would wait or read for ever).
 */
export async function encodingOf(file: string): Promise<TextEncoding> {
  await checkInputFile(file, 'the file');
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
  // (links to files in the folder count as files, as they would for a person listing it).
  for (const file of files) {
    const entry = await statOf(file, 'a broken link or vanished file');
    if (!entry.isFile()) throw new ReconError('INPUT', `${file}: not a regular file (${kindOf(entry)})`);
    await refuseLinkOut(path, file);
    await requireReadable(file);
  }
  return files;
}

/**
 * A link in a folder that points out of it is refused: a merchant's inbox must not pull in
 * another merchant's books (or any file the process can read) by a link dropped into it. A file
 * elsewhere is given by its own path instead.
 */
async function refuseLinkOut(folder: string, file: string): Promise<void> {
  if (!(await lstat(file)).isSymbolicLink()) return;
  const [home, target] = await Promise.all([realpath(folder), realpath(file)]);
  const inside = relative(home, target);
  if (inside.split(sep)[0] === '..' || isAbsolute(inside)) {
    throw new ReconError('INPUT', `${file}: a link to ${target}, outside the folder ${folder}; links out of an input folder are not followed (give that file by its own path)`);
  }
}
