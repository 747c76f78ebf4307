import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by this global setup: the compiled CLI under dist/ matches the sources. */
    cliBuilt: boolean;
  }
}

/**
 * Global setup of the `e2e` project, the only one that starts the CLI: its child processes run
 * the compiled code (`bin/` runs `dist/`), so it is built from the sources first, incrementally,
 * well under a second when nothing changed. A build that fails stops the run, rather than
 * letting the CLI tests run yesterday's code.
 */
export default async function buildCli(project?: TestProject): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '--build', 'tsconfig.build.json'], { cwd: fileURLToPath(new URL('../../', import.meta.url)) });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout?.trim();
    throw new Error(`the build of the CLI (tsc --build tsconfig.build.json) failed, so no test runs:\n${output || String(error)}`);
  }
  project?.provide('cliBuilt', true);
}
