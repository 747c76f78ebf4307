import { randomUUID } from 'node:crypto';
import { mkdir, open, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ReconError } from '../errors.ts';
import { kindOf } from '../input-file.ts';

/**
 * Proves that reports can be written to `dir` before a run ingests anything or asks the gateway:
 * creates the folder (and its parents), writes and removes a probe file, then removes the
 * folders it created (unless `keep`), so a run that stops later leaves no empty folder behind.
 * `setting` names where the folder came from (`--out`, `RECON_REPORTS_DIR`) in the one-line
 * message. A folder of a pseudo-filesystem (`/proc`, `/sys`) is refused here too: it cannot be
 * made, or takes no file.
 */
export async function checkWritableDir(dir: string, setting: string, options: { keep?: boolean } = {}): Promise<void> {
  const absolute = resolve(dir);
  const created: string[] = [];
  let kept = false;
  try {
    await makeFolders(absolute, created, (reason) => refused(setting, `${setting} ${dir}: ${reason}`));
    await probe(absolute, setting, dir);
    kept = options.keep === true;
  } finally {
    if (!kept) for (const folder of created.reverse()) await rmdir(folder).catch(() => undefined);
  }
}

/**
 * `mkdir -p`, one folder at a time, recording each one made in `created`. Not Node's
 * `recursive: true`: where a parent exists but refuses new entries with ENOENT (procfs), that
 * retries the parent and the child forever.
 */
async function makeFolders(dir: string, created: string[], fail: (reason: string) => ReconError): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    let info;
    try {
      info = await stat(at);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'ENOTDIR') throw fail('cannot be created (part of the path is not a folder)');
      if (code !== 'ENOENT' || dirname(at) === at) throw fail(`cannot be created (${code})`);
      missing.unshift(at);
      continue;
    }
    if (info.isDirectory()) break;
    throw fail(at === dir ? `is ${kindOf(info)}, not a folder` : 'cannot be created (part of the path is not a folder)');
  }
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (error) {
      // Another process (a second worker starting) made it meanwhile: it is there, not ours.
      if (codeOf(error) === 'EEXIST' && (await stat(folder).then((info) => info.isDirectory(), () => false))) continue;
      throw fail(`cannot be created (${codeOf(error)})`);
    }
    created.push(folder);
  }
}

/**
 * `export --out FILE`: the folder must exist and take a new file, and the file, if it exists,
 * must be a regular file (it is replaced; a FIFO or a folder there is refused by name).
 */
export async function checkWritableFile(file: string, setting: string): Promise<void> {
  const absolute = resolve(file);
  const existing = await stat(absolute).catch(() => undefined);
  if (existing && !existing.isFile()) throw refused(setting, `${setting} ${file}: is ${kindOf(existing)}, not a file`);
  const folder = dirname(absolute);
  const info = await stat(folder).catch(() => undefined);
  if (!info) throw refused(setting, `${setting} ${file}: the folder ${folder} does not exist`);
  if (!info.isDirectory()) throw refused(setting, `${setting} ${file}: ${folder} is ${kindOf(info)}, not a folder`);
  await probe(folder, setting, file);
}

/** A new file opened exclusively ('wx'), so an existing file, or a FIFO, is never opened. */
async function probe(folder: string, setting: string, given: string): Promise<void> {
  const path = join(folder, `.kpgw-recon-probe-${randomUUID()}`);
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.write('probe\n'); // a full disk shows here, not after the gateway was asked
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(path).catch(() => undefined);
    throw refused(setting, `${setting} ${given}: cannot be written (${codeOf(error)})`, error);
  }
  await unlink(path);
}

/** A flag is the user's usage; an environment setting is configuration. Both exit 2. */
function refused(setting: string, message: string, cause?: unknown): ReconError {
  return new ReconError(setting.startsWith('--') ? 'USAGE' : 'CONFIG', message, { cause });
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

/** Where a run writes: `--out` when given, else a folder under `RECON_REPORTS_DIR`. */
export async function checkReportDir(out: string | undefined, reportsDir: string): Promise<void> {
  if (out === undefined) return checkWritableDir(reportsDir, 'RECON_REPORTS_DIR');
  if (!out.trim()) throw refused('--out', '--out is empty (a folder for the reports)');
  return checkWritableDir(out, '--out');
}
