import { randomUUID } from 'node:crypto';
import { mkdir, open, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ReconError } from '../errors.ts';
import { kindOf } from '../ingest/inputs.ts';

/**
 * Proves that reports can be written to `dir` before a run ingests anything or asks the gateway:
 * creates the folder (and its parents), writes and removes a probe file, then removes the
 * folders it created, so a run that stops later leaves no empty folder behind. `setting` names
 * where the folder came from (`--out`, `RECON_REPORTS_DIR`) in the one-line message.
 */
export async function checkWritableDir(dir: string, setting: string): Promise<void> {
  const absolute = resolve(dir);
  let created: string | undefined;
  try {
    created = await mkdir(absolute, { recursive: true });
  } catch (error) {
    throw await notWritable(setting, dir, absolute, error);
  }
  try {
    await probe(absolute, setting, dir);
  } finally {
    if (created) await removeCreated(absolute, created);
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

async function notWritable(setting: string, given: string, absolute: string, error: unknown): Promise<ReconError> {
  const code = codeOf(error);
  if (code === 'EEXIST') {
    const info = await stat(absolute).catch(() => undefined);
    if (info && !info.isDirectory()) return refused(setting, `${setting} ${given}: is ${kindOf(info)}, not a folder`, error);
  }
  if (code === 'ENOTDIR') return refused(setting, `${setting} ${given}: cannot be created (part of the path is not a folder)`, error);
  return refused(setting, `${setting} ${given}: cannot be created (${code})`, error);
}

/** Removes `dir` and its parents up to `created`, the first folder mkdir made (rmdir: only empty ones). */
async function removeCreated(dir: string, created: string): Promise<void> {
  for (let at = dir; at.startsWith(created); at = dirname(at)) {
    const removed = await rmdir(at).then(() => true, () => false);
    if (!removed || at === created) return;
  }
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
