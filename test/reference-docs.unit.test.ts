import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../src/commands/index.ts';
import { FINDING_TEXTS } from '../src/reconcile/finding-texts.ts';
import { MISMATCH_CODES, SEVERITY } from '../src/reconcile/mismatch.ts';
import { ROOT } from './helpers/cli.ts';

const read = (path: string) => readFile(join(ROOT, path), 'utf8');

/** The rows `| `CODE`[, `CODE`…] | severity | explanation |` of a Markdown table, by code. */
function codeRows(markdown: string): Map<string, { severity: string; explanation: string }> {
  const rows = new Map<string, { severity: string; explanation: string }>();
  for (const match of markdown.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \| (error|warning) \| (.{10,}) \|$/gm)) {
    for (const code of match[1]!.matchAll(/`([A-Z_]+)`/g)) {
      expect(rows.has(code[1]!), `${code[1]} explained twice`).toBe(false);
      rows.set(code[1]!, { severity: match[2]!, explanation: match[3]! });
    }
  }
  return rows;
}

async function shippedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the documentation lives in the repository', () => {
  it('docs/reference.md and the README explain every mismatch code with its severity, one row each', async () => {
    for (const doc of [await read('docs/reference.md'), await read('README.md')]) {
      const rows = codeRows(doc);
      expect([...rows.keys()].sort()).toEqual([...MISMATCH_CODES].sort());
      for (const [code, { severity }] of rows) expect(severity, code).toBe(SEVERITY[code as keyof typeof SEVERITY]);
    }
  });

  it("report.html explains each code in English in the reference's own words", async () => {
    const rows = codeRows(await read('docs/reference.md'));
    for (const [code, { explanation }] of rows) {
      // The page shows plain text: the reference's Markdown code spans lose their backticks.
      expect(FINDING_TEXTS[code as keyof typeof FINDING_TEXTS]?.en, code).toBe(explanation.replaceAll('`', ''));
    }
  });

  it('docs/reference.md has a section for every command', async () => {
    const reference = await read('docs/reference.md');
    for (const command of commands) expect(reference, command.name).toContain(`### \`${command.name}\``);
  });

  it('nothing shipped points outside the repository', async () => {
    const loaded = await Promise.all(commands.map((entry) => entry.load()));
    const files = [join(ROOT, 'README.md'), ...(await shippedFiles('docs')), ...(await shippedFiles('src')), ...(await shippedFiles('jobs')), ...(await shippedFiles('bin'))];
    for (const file of files) expect(await readFile(file, 'utf8'), file).not.toMatch(/\.\.\/shared|shared\/docs\/contract/);
    for (const command of loaded) expect(command.help, command.name).not.toMatch(/contract/i);
  });
});
