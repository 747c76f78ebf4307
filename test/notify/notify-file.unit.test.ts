import { describe, expect, it } from 'vitest';
import { notifyElements, type FileElement } from '../../src/notify/notify-file.ts';

/** The elements of `text`, fed whole and one byte at a time (which must agree), as text. */
async function elements(text: string | Buffer): Promise<{ line: number; text?: string; problem?: string }[]> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const read = async (chunks: Buffer[]) => {
    const out: FileElement[] = [];
    for await (const element of notifyElements(chunks)) out.push(element);
    return out.map((e) => ('bytes' in e ? { line: e.line, text: e.bytes.toString('utf8') } : e));
  };
  const whole = await read([bytes]);
  expect(await read([...bytes].map((b) => Buffer.from([b])))).toEqual(whole);
  return whole;
}

describe('notification files', () => {
  it('reads JSON lines: each line as written (without its line break), blank lines skipped', async () => {
    const text = '\uFEFF{"id": "a", "description": "กาแฟ, [เย็น]"}\r\n\n   \n{"id":"b"}\nnot json\n{"id": "c"}';
    expect(await elements(text)).toEqual([
      { line: 1, text: '{"id": "a", "description": "กาแฟ, [เย็น]"}' },
      { line: 4, text: '{"id":"b"}' },
      { line: 5, text: 'not json' },
      { line: 6, text: '{"id": "c"}' },
    ]);
  });

  it('reads a JSON array: each element as written, with the line it starts on', async () => {
    const text = '\n[\n  {"id": "a", "source": {"brand": "Alipay"}, "s": "},\\"]"},\n  {\n    "id": "b"\n  }, 42, "text",\n{"id":"c"}]\n';
    expect(await elements(text)).toEqual([
      { line: 3, text: '{"id": "a", "source": {"brand": "Alipay"}, "s": "},\\"]"}' },
      { line: 4, text: '{\n    "id": "b"\n  }' },
      { line: 6, text: '42' },
      { line: 6, text: '"text"' },
      { line: 7, text: '{"id":"c"}' },
    ]);
  });

  it('reports a truncated array, text after it, and an element over 64 KiB, and goes on past the large one', async () => {
    expect(await elements('[{"id": "a"},\n{"id": "b", "x": [')).toEqual([
      { line: 1, text: '{"id": "a"}' },
      { line: 2, problem: 'the file ends inside the JSON array (truncated?)' },
    ]);
    expect(await elements('[{"id": "a"}]\nmore')).toEqual([
      { line: 1, text: '{"id": "a"}' },
      { line: 2, problem: 'text after the end of the JSON array; ignored' },
    ]);
    const big = `{"d": "${'x'.repeat(64 * 1024)}"}`;
    expect(await elements(`${big}\n{"id": "a"}\n`)).toEqual([
      { line: 1, problem: 'larger than 65536 bytes' },
      { line: 2, text: '{"id": "a"}' },
    ]);
  });
});
