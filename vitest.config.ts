import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Three tiers, by file name (test/README.md):
 * - `unit`: `*.unit.test.ts`, pure modules: no database, no simulator, no child process; seconds.
 * - `e2e`: `*.e2e.test.ts` and `*.browser.test.ts`: the compiled CLI or other processes (fresh
 *   initdb's, the demo, a browser), large runs; the CLI is built before them.
 * - `db`: every other test file: PostgreSQL and/or the simulator, in-process.
 * Files run in parallel across tiers: each has a database of its own, cloned from a template.
 */
const UNIT = 'test/**/*.unit.test.ts';
const E2E = ['test/**/*.e2e.test.ts', 'test/**/*.browser.test.ts'];
const DATABASE = 'test/helpers/global-setup.ts';
/** How long a test or hook may run before it is taken for hung (see testTimeout below). */
const HANG_GUARD_MS = 15 * 60_000;

/** The slow tier starts first, so its long files do not end the run alone. */
const TIER_ORDER = ['e2e', 'db', 'unit'];
class TiersFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => TIER_ORDER.indexOf(file.project.name);
    return sorted.map((file, index) => ({ file, index })).sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index).map(({ file }) => file);
  }
}

export default defineConfig({
  test: {
    // Two cores: three forks keep them busy while files wait on PostgreSQL, HTTP and child processes.
    maxWorkers: 3,
    // A worker keeps its modules from one test file to the next rather than loading the whole
    // pipeline again for each: a file owns its database, folders and servers, and what a shared
    // helper module holds for one file is reset when it ends (test/helpers/file-scope.ts).
    isolate: false,
    setupFiles: ['test/helpers/end-of-file.ts'],
    sequence: { sequencer: TiersFirst },
    // A hang guard, not a deadline: a test's steps are bounded by the code's own timeouts (the
    // gateway's, PostgreSQL's connect timeout, a command's forced exit), so only a real hang
    // lasts this long. A tighter figure would fail tests because the machine is busy, not wrong.
    testTimeout: HANG_GUARD_MS,
    hookTimeout: HANG_GUARD_MS,
    projects: [
      { extends: true, test: { name: 'unit', include: [UNIT] } },
      // An include rather than an `exclude`, which would replace the one given on the command line.
      { extends: true, test: { name: 'db', include: ['test/**/!(*.unit|*.e2e|*.browser).test.ts'], globalSetup: [DATABASE] } },
      { extends: true, test: { name: 'e2e', include: E2E, globalSetup: ['test/helpers/build-cli.ts', DATABASE] } },
    ],
  },
});
