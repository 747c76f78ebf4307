import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.ts';

/** The rules of `.dependency-cruiser.cjs` broken under `baseDir`'s `src/`, one line each. */
async function violations(baseDir: string): Promise<string[]> {
  const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
  const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));
  const { output } = await cruise(['src'], { ...options, baseDir, validate: true, outputType: 'json' }, {}, { tsConfig });
  const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
}

describe("src/'s imports run one way, down the pipeline (README.md, Development)", () => {
  it('no import runs back up the pipeline, none goes across to a sibling, and there is no circle', async () => {
    expect(await violations(ROOT)).toEqual([]);
  });

  it('the rules catch an import back up the pipeline and a circle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kpgw-layers-'));
    try {
      const files: Record<string, string> = {
        'src/ingest/row.ts': "import { selected } from '../run/select.ts';\nexport const row = () => selected;\n",
        'src/run/select.ts': "import { row } from '../ingest/row.ts';\nexport const selected = 1;\nexport const again = row;\n",
        'src/money.ts': 'export const ZERO = 0;\n',
      };
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      const found = await violations(dir);
      expect(found).toContain('up-from-ingest: src/ingest/row.ts → src/run/select.ts');
      expect(found.some((v) => v.startsWith('no-circular: '))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
