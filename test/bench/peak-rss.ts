import { readFile } from 'node:fs/promises';

/**
 * `node --import` this and a child process writes its peak RSS (KB) to the file its
 * BENCH_RSS_FILE names, whatever way it exits: the benchmarks' memory figure of a CLI run.
 */
export const PEAK_RSS_REPORTER = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));",
)}`;

/** The peak RSS, in MB, that the reporter wrote to `file`. */
export async function peakRssMb(file: string): Promise<number> {
  return Number(await readFile(file, 'utf8')) / 1024;
}
