import { Text } from '@codemirror/state';
import { describe, expect, it } from 'vitest';
import {
  completionsAt,
  contextAt,
  ITEM,
  keyHelpAt,
  schemasAt,
} from '../../renderer/src/components/firewall/policy-language';

/** The document and the cursor, marked by `|` in the text. */
function at(marked: string) {
  const pos = marked.indexOf('|');
  return { doc: Text.of(marked.replace('|', '').split('\n')), pos };
}

const VOCABULARY = {
  workloads: ['catalog', 'payments-db'],
  labels: { tier: ['api', 'db'], service: ['catalog', 'payments'] },
};

const labels = (marked: string) => {
  const { doc, pos } = at(marked);
  return completionsAt(doc, pos, VOCABULARY).options.map((o) => o.label);
};

describe('the policy editor’s language support (from policy.schema.json)', () => {
  it('finds the path of keys above the cursor in block and flow style', () => {
    const cases: [string, ReturnType<typeof contextAt>['path'], 'key' | 'value', string?][] = [
      ['mo|', [], 'key'],
      ['mode: |', [], 'value', 'mode'],
      ['segments:\n  app:\n    sel|', ['segments', 'app'], 'key'],
      ['segments:\n  app: { selector: { ti| } }', ['segments', 'app', 'selector'], 'key'],
      ['segments:\n  app: { selector: { tier: | } }', ['segments', 'app', 'selector'], 'value', 'tier'],
      ['rules:\n  - id: a\n    |', ['rules', ITEM], 'key'],
      ['rules:\n- id: a\n  action: |', ['rules', ITEM], 'value', 'action'],
      ['rules:\n  - id: a\n    from:\n      |', ['rules', ITEM, 'from'], 'key'],
      ['rules:\n  - from: { segment: | }', ['rules', ITEM, 'from'], 'value', 'segment'],
      ['rules:\n  - id: a\n    ports: [80, |]', ['rules', ITEM, 'ports'], 'value', ITEM],
      ['segments:\n  ops:\n    workloads:\n      - |', ['segments', 'ops', 'workloads'], 'value', ITEM],
    ];
    for (const [marked, path, position, key] of cases) {
      const { doc, pos } = at(marked);
      const context = contextAt(doc, pos);
      expect({ marked, path: context.path, position: context.position, key: context.key }).toEqual({
        marked,
        path,
        position,
        key,
      });
    }
  });

  it('offers the keys and values the schema allows there', () => {
    expect(labels('|')).toEqual(
      expect.arrayContaining(['name', 'description', 'mode', 'defaultAction', 'segments', 'rules']),
    );
    expect(labels('mode: |')).toEqual(['off', 'monitor', 'enforce']);
    expect(labels('defaultAction: |')).toEqual(['allow', 'deny', 'reject']);
    expect(labels('rules:\n  - id: a\n    |')).toEqual(
      expect.arrayContaining(['id', 'from', 'to', 'ports', 'action', 'priority', 'log']),
    );
    expect(labels('segments:\n  app:\n    |')).toEqual(
      expect.arrayContaining(['selector', 'workloads', 'mode', 'description']),
    );
    expect(labels('rules:\n  - log: |')).toEqual(['true', 'false']);
  });

  it('adds what the schema cannot know: segment names, workloads, labels', () => {
    const text =
      'segments:\n  web: { selector: { tier: api } }\n  data: { workloads: [payments-db] }\nrules:\n  - from: { segment: | }';
    expect(labels(text)).toEqual(['web', 'data']);
    expect(labels('rules:\n  - to: { workload: | }')).toEqual(['catalog', 'payments-db']);
    expect(labels('segments:\n  a: { selector: { | } }')).toEqual(['service', 'tier']);
    expect(labels('segments:\n  a: { selector: { tier: | } }')).toEqual(['api', 'db']);
  });

  it('explains a key under the pointer', () => {
    const { doc, pos } = at('segments:\n  app:\n    sel|ector: { tier: app }');
    const help = keyHelpAt(doc, pos);
    expect(help?.key).toBe('selector');
    expect(help?.text).toContain('selector labels');
    const mode = keyHelpAt(Text.of(['mode: enforce']), 1);
    expect(mode?.text).toContain('One of: off, monitor, enforce');
    expect(schemasAt(['nonsense'])).toEqual([]);
  });
});
