import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A path inside this package (e.g. `packagePath('sql')`). The code runs from `src/` (tests, tsx)
 * and from the compiled `dist/src/`, at different depths, so the root is found by walking up to
 * the directory that holds `package.json` rather than by counting `..`.
 */
export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

let root: string | undefined;

function packageRoot(): string {
  if (root !== undefined) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
