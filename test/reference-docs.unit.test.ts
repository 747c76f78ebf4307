import { access, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../src/commands/index.ts';
import { FINDING_TEXTS } from '../src/reconcile/finding-texts.ts';
import { MISMATCH_CODES, SEVERITY } from '../src/reconcile/mismatch.ts';
import { ROOT } from './helpers/cli.ts';

const read = (path: string) => readFile(join(ROOT, path), 'utf8');
const REFERENCE = await read('docs/reference.md');
const README = await read('README.md');

/** What a Markdown file's own heading is linked by, as GitHub makes it (github-slugger). */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}_\- ]/gu, '').replaceAll(' ', '-');
}

interface Heading {
  readonly level: number;
  /** As written: `4.3` of `### 4.3 Expected fees`, `4` of `## 4. How…`; '' when unnumbered. */
  readonly number: string;
  readonly text: string;
  readonly slug: string;
  /** The text up to the next heading, whatever its level. */
  readonly body: string;
}

/** The headings of levels 2 to 4, outside fenced code, each with the anchor GitHub gives it (a repeat gets `-1`, …). */
function headings(markdown: string): Heading[] {
  const found: { level: number; text: string; lines: string[] }[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^(#{2,4}) (.+)$/.exec(line);
    if (heading) found.push({ level: heading[1]!.length, text: heading[2]!, lines: [] });
    else found.at(-1)?.lines.push(line);
  }
  const seen = new Map<string, number>();
  return found.map(({ level, text, lines }) => {
    const base = slug(text);
    const repeat = seen.get(base) ?? 0;
    seen.set(base, repeat + 1);
    const number = /^(\d+(?:\.\d+)*)\.? /.exec(text)?.[1] ?? '';
    return { level, number, text, slug: repeat ? `${base}-${repeat}` : base, body: lines.join('\n') };
  });
}

const REFERENCE_HEADINGS = headings(REFERENCE);
const anchorsOf = (list: readonly Heading[]) => new Set(list.map((h) => h.slug));

/** The cells of each row of a Markdown table that gives one or more finding codes and their severity. */
function codeRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => /^\| `[A-Z_]+`(?:, `[A-Z_]+`)* \| (?:error|warning) \|/.test(line))
    .map((line) => line.slice(2, -2).split(' | '));
}

const codesIn = (cell: string) => [...cell.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
/** The code spans of Markdown text (one may run over a line break), fenced blocks left out. */
const spans = (text: string) =>
  [...text.replace(/^```[^]*?^```/gm, '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s+/g, ' '));

/** A file of the repository, as the reference names it (a folder ends with `/`). */
const REPO_PATH = /^(?:src|test|sql|jobs|bin|docs)\/[\w./-]*$/;
const isTestFile = (path: string) => /^test\/.+\.test\.ts$/.test(path);
const exists = (path: string) => access(join(ROOT, path)).then(() => true, () => false);

/** The paragraph of a section that names its files: "Implemented in `a` and `b`; proved by `c`." */
interface Citation {
  readonly section: Heading;
  readonly implemented: string[];
  readonly proved: string[];
}

function citations(section: Heading): Citation[] {
  return section.body
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim().replace(/\s+/g, ' '))
    .filter((paragraph) => paragraph.startsWith('Implemented in '))
    .map((paragraph) => {
      const parts = /^Implemented in (.+); proved by (.+)\.$/.exec(paragraph);
      expect(parts, `${section.text}: "Implemented in …; proved by ….", not "${paragraph}"`).not.toBeNull();
      return { section, implemented: spans(parts![1]!), proved: spans(parts![2]!) };
    });
}

async function testFiles(): Promise<Map<string, string>> {
  const entries = await readdir(join(ROOT, 'test'), { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.test.ts')).map((e) => join(e.parentPath, e.name));
  return new Map(await Promise.all(files.map(async (file) => [relative(ROOT, file), await readFile(file, 'utf8')] as const)));
}

async function shippedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the documentation lives in the repository', () => {
  it('docs/reference.md and the README explain every mismatch code with its severity, one row each', () => {
    for (const doc of [REFERENCE, README]) {
      const severities = new Map<string, string>();
      for (const [codes, severity] of codeRows(doc)) {
        for (const code of codesIn(codes!)) {
          expect(severities.has(code), `${code} explained twice`).toBe(false);
          severities.set(code, severity!);
        }
      }
      expect([...severities.keys()].sort()).toEqual([...MISMATCH_CODES].sort());
      for (const [code, severity] of severities) expect(severity, code).toBe(SEVERITY[code as keyof typeof SEVERITY]);
    }
  });

  it("report.html explains each code in English in the reference's own words", () => {
    for (const [codes, , explanation] of codeRows(REFERENCE)) {
      const [code] = codesIn(codes!);
      // The page shows plain text: the reference's Markdown code spans lose their backticks.
      expect(FINDING_TEXTS[code as keyof typeof FINDING_TEXTS]?.en, code).toBe(explanation!.replaceAll('`', ''));
    }
  });

  it('docs/reference.md has a section for every command', () => {
    const sections = new Set(REFERENCE_HEADINGS.map((h) => h.text.replace(/^[\d.]+ /, '')));
    for (const command of commands) expect(sections, command.name).toContain(`\`${command.name}\``);
  });

  it('nothing shipped points outside the repository', async () => {
    const loaded = await Promise.all(commands.map((entry) => entry.load()));
    const files = [join(ROOT, 'README.md'), ...(await shippedFiles('docs')), ...(await shippedFiles('src')), ...(await shippedFiles('sql')), ...(await shippedFiles('jobs')), ...(await shippedFiles('bin'))];
    for (const file of files) expect(await readFile(file, 'utf8'), file).not.toMatch(/\.\.\/shared|shared\/docs\/contract|contract (v\d )?§/i);
    for (const command of loaded) expect(command.help, command.name).not.toMatch(/contract/i);
  });
});

describe('docs/reference.md can be cited by section number', () => {
  it('every citation of it in the code, the migrations and the tests names a section it has', async () => {
    const numbers = new Set(REFERENCE_HEADINGS.map((h) => h.number));
    const files = [...(await shippedFiles('src')), ...(await shippedFiles('sql')), ...(await shippedFiles('jobs')), ...(await shippedFiles('test'))];
    let cited = 0;
    for (const file of files) {
      for (const [, list] of (await readFile(file, 'utf8')).matchAll(/reference\.md (§[\d.§, and]*\d)/g)) {
        for (const [, number] of list!.matchAll(/§?(\d+(?:\.\d+)*)/g)) {
          cited++;
          expect(numbers, `${relative(ROOT, file)}: §${number}`).toContain(number);
        }
      }
    }
    expect(cited).toBeGreaterThan(100);
  });

  it('numbers every section, in order and once: 1., 2., … and under 4., 4.1, 4.2, …', () => {
    const counters: number[] = [];
    for (const { level, number, text } of REFERENCE_HEADINGS) {
      const depth = level - 1;
      counters.length = depth;
      counters[depth - 1] = (counters[depth - 1] ?? 0) + 1;
      expect(counters.some((n) => n === undefined), `"${text}" has no parent section`).toBe(false);
      expect(number, `"${text}"`).toBe(counters.join('.'));
    }
    expect(new Set(REFERENCE_HEADINGS.map((h) => h.number)).size).toBe(REFERENCE_HEADINGS.length);
  });

  it('lists every section of levels 2 and 3 in its table of contents, in order', () => {
    const contents = REFERENCE.slice(REFERENCE.indexOf('\n- ['), REFERENCE.indexOf('\n## '));
    const listed = [...contents.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(listed).toEqual(REFERENCE_HEADINGS.filter((h) => h.level <= 3).map((h) => h.slug));
  });

  it('every link to one of its sections, from itself or the README, leads to a heading, the one of the number it shows', () => {
    const readmeAnchors = anchorsOf(headings(README));
    const referenceAnchors = anchorsOf(REFERENCE_HEADINGS);
    const links = (markdown: string, target: string) => [...markdown.matchAll(new RegExp(`\\]\\(${target}#([^)]+)\\)`, 'g'))].map((m) => m[1]!);
    for (const anchor of links(REFERENCE, '')) expect(referenceAnchors, `docs/reference.md: (#${anchor})`).toContain(anchor);
    for (const anchor of links(README, '')) expect(readmeAnchors, `README.md: (#${anchor})`).toContain(anchor);
    for (const anchor of links(README, 'docs/reference\\.md')) expect(referenceAnchors, `README.md: (docs/reference.md#${anchor})`).toContain(anchor);
    for (const anchor of links(REFERENCE, '\\.\\./README\\.md')) expect(readmeAnchors, `docs/reference.md: (../README.md#${anchor})`).toContain(anchor);
    // `[4.13](#413-refund-matching)`, `[docs/reference.md §4](docs/reference.md#4-how-…)`: the number shown is the section's.
    for (const [markdown, target] of [[REFERENCE, ''], [README, 'docs/reference\\.md']] as const) {
      for (const link of markdown.matchAll(new RegExp(`\\[[^\\]]*?§?(\\d+(?:\\.\\d+)*)\\.?(?: [^\\]]*)?\\]\\(${target}#([^)]+)\\)`, 'g'))) {
        expect(REFERENCE_HEADINGS.find((h) => h.number === link[1])?.slug, link[0]).toBe(link[2]);
      }
    }
  });
});

describe('docs/reference.md names the code and the test of each rule and finding', () => {
  it('every file it or the README names exists, so a file moved must be renamed there too', async () => {
    const named = new Set([...spans(REFERENCE), ...spans(README)].filter((span) => REPO_PATH.test(span)));
    expect(named.size).toBeGreaterThan(50);
    for (const path of named) expect(await exists(path), path).toBe(true);
  });

  it('each rule of "How a charge is reconciled" and "Notifications in the night" has its line, once', () => {
    const rules = REFERENCE_HEADINGS.filter((h) => h.level === 3 && /^[46]\./.test(h.number));
    expect(rules.length).toBeGreaterThan(25);
    for (const rule of rules) expect(citations(rule), rule.text).toHaveLength(1);
  });

  it('each such line names source files, and tests that import one of them or mention what the section is about', async () => {
    const tests = await testFiles();
    // A term that a third of the test files contain says nothing about which rule a test proves.
    const common = (term: string) => [...tests.values()].filter((text) => text.includes(term)).length * 3 >= tests.size;
    const all = REFERENCE_HEADINGS.flatMap(citations);
    expect(all.length).toBeGreaterThan(40);
    for (const { section, implemented, proved } of all) {
      expect(implemented.length, section.text).toBeGreaterThan(0);
      expect(proved.length, section.text).toBeGreaterThan(0);
      for (const path of implemented) expect(path, section.text).toMatch(/^(?:src|jobs|bin|sql)\//);
      for (const path of proved) expect(isTestFile(path), `${section.text}: ${path} is not a test file`).toBe(true);
      const markers = [...spans(section.text), ...spans(section.body.split('\nImplemented in ')[0]!)].filter((s) => !REPO_PATH.test(s) && !common(s));
      expect(markers.length, `${section.text} names nothing a test could mention`).toBeGreaterThan(0);
      for (const path of proved) {
        const text = tests.get(path) ?? '';
        const proves = implemented.some((source) => text.includes(`/${source}`)) || markers.some((marker) => text.includes(marker));
        expect(proves, `${section.text}: ${path} imports none of its files and mentions none of ${markers.join(', ')}`).toBe(true);
      }
    }
  });

  it('every finding code names its rule, a source file that makes it and a test that asserts it', async () => {
    const tests = await testFiles();
    const rows = codeRows(REFERENCE);
    expect(rows.map(([codes]) => codesIn(codes!)).flat().sort()).toEqual([...MISMATCH_CODES].sort());
    for (const [codes, , , rule, implemented, proved] of rows) {
      const [code] = codesIn(codes!);
      expect(codesIn(codes!), 'one code a row').toHaveLength(1);
      const [, number] = /^\[([\d.]+)\]\(#[^)]+\)$/.exec(rule ?? '') ?? [];
      expect(spans(REFERENCE_HEADINGS.find((h) => h.number === number)?.body ?? ''), `${code}: its rule ${rule} names it`).toContain(code);
      const sources = spans(implemented ?? '');
      expect(sources.length, code).toBeGreaterThan(0);
      for (const path of sources) expect(path, code).toMatch(/^src\/.+\.ts$/);
      const said = await Promise.all(sources.map((path) => read(path).then((text) => text.includes(`'${code}'`), () => false)));
      expect(said.some(Boolean), `${code}: none of ${sources.join(', ')} makes it`).toBe(true);
      const provers = spans(proved ?? '');
      expect(provers.length, code).toBeGreaterThan(0);
      for (const path of provers) expect(tests.get(path), `${code}: ${path}`).toContain(code);
    }
  });
});
