import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { YamlFormat } from '../../electron/yaml-file';
import { readYaml, sizeIssue } from '../../electron/yaml-file';

const Thing = z.strictObject({
  name: z.string(),
  size: z.number().int().min(1),
  peer: z.union([z.literal('any'), z.strictObject({ segment: z.string() })]).optional(),
  parts: z.array(z.strictObject({ id: z.string() })).default([]),
});

const format: YamlFormat<typeof Thing> = {
  schema: Thing,
  maxBytes: 200,
  noun: 'a thing',
  empty: 'the thing is empty',
  check: (t) =>
    t.parts.flatMap((p, i) =>
      t.parts.findIndex((q) => q.id === p.id) < i
        ? [{ path: ['parts', i, 'id'], message: `"${p.id}" twice` }]
        : [],
    ),
  fieldHint: (path) => (path.length === 0 ? ' (fields: name, size, peer, parts)' : ''),
};

const read = (text: string, f: YamlFormat<typeof Thing> = format) => readYaml(text, 'thing.yaml', f);
const issuesOf = (text: string, f?: YamlFormat<typeof Thing>) => {
  const r = read(text, f);
  if (r.ok) throw new Error('expected problems');
  return r.issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path} ${i.message}`);
};

describe('readYaml', () => {
  it('returns the validated value, defaults applied', () => {
    expect(read('name: a\nsize: 2\n')).toEqual({
      ok: true,
      value: { name: 'a', size: 2, parts: [] },
      warnings: [],
    });
  });

  it('places every schema problem at its line and column, sorted, unknown fields at their key', () => {
    expect(issuesOf('size: 0\nname: 3\ncolour: red\n')).toEqual([
      'thing.yaml:1:7 size Too small: expected number to be >=1',
      'thing.yaml:2:7 name Invalid input: expected string, received number',
      'thing.yaml:3:1 colour unknown field "colour" (fields: name, size, peer, parts)',
    ]);
  });

  it("follows the one union branch that fits the value's shape", () => {
    expect(issuesOf('name: a\nsize: 1\npeer:\n  segment: 5\n')).toEqual([
      'thing.yaml:4:12 peer.segment Invalid input: expected string, received number',
    ]);
    const worded = { ...format, unionMessage: () => 'a peer is any or { segment }' };
    expect(issuesOf('name: a\nsize: 1\npeer: 7\n', worded)).toEqual([
      'thing.yaml:3:7 peer a peer is any or { segment }',
    ]);
  });

  it("runs the format's own checks once the schema passed, and places them too", () => {
    expect(issuesOf('name: a\nsize: 1\nparts:\n  - id: x\n  - id: x\n')).toEqual([
      'thing.yaml:5:9 parts.1.id "x" twice',
    ]);
  });

  it('reports bad YAML with its warnings, and keeps the warnings of a file that reads', () => {
    expect(issuesOf('name: !!foo a\nsize: 1\nsize: 2\n')).toEqual([
      'thing.yaml:1:7  bad YAML: Unresolved tag: tag:yaml.org,2002:foo',
      'thing.yaml:3:1  bad YAML: Map keys must be unique',
    ]);
    const r = read('name: !custom a\nsize: 1\n');
    expect(r.ok && r.warnings.map((w) => `${w.line}:${w.column} ${w.message}`)).toEqual([
      '1:7 bad YAML: Unresolved tag: !custom',
    ]);
  });

  it('refuses a file over its limit, and an empty one, in the words of the format', () => {
    expect(issuesOf(`name: ${'x'.repeat(300)}\n`)).toEqual([
      'thing.yaml:1:1  the file is 307 bytes; a thing may be at most 200 bytes',
    ]);
    expect(issuesOf('# nothing\n')).toEqual(['thing.yaml:1:1  the thing is empty']);
    // the same words for a file seen by its size before it is read
    expect(sizeIssue('big.yaml', 201, format)).toEqual({
      file: 'big.yaml',
      line: 1,
      column: 1,
      path: '',
      message: 'the file is 201 bytes; a thing may be at most 200 bytes',
    });
    expect(sizeIssue('big.yaml', 200, format)).toBeUndefined();
  });

  it('stops an alias bomb', () => {
    const bomb =
      'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n';
    expect(issuesOf(bomb, { ...format, maxBytes: 1000 })[0]).toMatch(/bad YAML: .*alias/i);
  });
});
