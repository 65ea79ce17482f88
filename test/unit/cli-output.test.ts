/**
 * The CLI's printing and help: one table helper sizes columns to their contents, one JSON
 * printer, and the help of every command comes from the same definitions as its parsing.
 */
import { describe, expect, it } from 'vitest';
import { buildCli, parse } from '../../electron/cli/commands';
import { printJson, printJsonLine, table } from '../../electron/cli/output';
import { commandPath } from '../../electron/cli/program';
import type { Runtime } from '../../electron/cli/program';

function sink() {
  let text = '';
  return {
    stream: { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream,
    text: () => text,
  };
}

describe('table', () => {
  it('sizes each column to its widest cell, pads right-aligned columns on the left, leaves no trailing spaces', () => {
    expect(
      table(
        [
          ['ENDPOINT', 'COUNT', 'NOTE'],
          ['GET /api/products', 12, ''],
          ['all', 1234, 'slow'],
        ],
        { indent: '  ', align: ['left', 'right'] },
      ),
    ).toEqual([
      '  ENDPOINT          COUNT NOTE',
      '  GET /api/products    12',
      '  all                1234 slow',
    ]);
  });

  it('takes a gap per column and rows of different lengths', () => {
    expect(table([['a', 'bb', 'c'], ['aaa']], { gap: ['  ', ' | '] })).toEqual(['a    bb | c', 'aaa']);
    expect(table([])).toEqual([]);
  });
});

describe('JSON printer', () => {
  it('prints indented JSON, or one line per value', () => {
    const out = sink();
    printJson(out.stream, { a: [1] });
    printJsonLine(out.stream, { b: 2 });
    expect(out.text()).toBe('{\n  "a": [\n    1\n  ]\n}\n{"b":2}\n');
  });
});

describe('help from the definitions', () => {
  const cli = buildCli();

  it('`microlab help` lists every command with each of its options', () => {
    const usage = cli.usage();
    for (const cmd of cli.leaves()) {
      expect(usage).toContain(`  ${cli.synopsisOf(cmd).split(' [')[0]}`);
      for (const option of cmd.options.filter((o) => o.long !== '--help'))
        expect(usage).toContain(option.long!);
    }
  });

  it.each(
    [
      ['policy', 'apply'],
      ['exec'],
      ['lab', 'progress', 'export'],
      ['student', 'set'],
      ['student'],
      ['lab'],
    ].map((w) => [w.join(' '), w] as const),
  )('`microlab %s --help` and `help` print the definition', async (_name, words) => {
    const cmd = cli.find(words)!;
    for (const argv of [
      [...words, '--help'],
      ['help', ...words],
    ]) {
      const out = sink();
      expect(await parse(argv).run({ out: out.stream } as unknown as Runtime)).toBe(0);
      expect(out.text()).toContain(`Usage: microlab ${commandPath(cmd)}`);
      expect(out.text()).toContain(cmd.description().slice(0, 30));
      for (const option of cmd.options) expect(out.text()).toContain(option.long!);
      expect(out.text()).toMatch(/[^\n]\n$/);
    }
  });
});
