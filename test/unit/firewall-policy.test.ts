import { describe, expect, it } from 'vitest';
import { MAX_POLICY_BYTES, parsePolicy, PolicyError } from '../../electron/firewall/policy';
import type { PolicyIssue } from '../../electron/firewall/policy';
import { REJECTED } from '../policy-fixtures';

function issuesOf(text: string): PolicyIssue[] {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).issues;
  }
  throw new Error('the policy was accepted');
}

const GOOD = `
name: shop-segmented
mode: enforce
defaultAction: deny
segments:
  web: { selector: { tier: web } }
  db:
    selector: { tier: db }
    mode: monitor
  ops: { workloads: [admin, backup] }
rules:
  - id: web-to-db
    from: { segment: web }
    to: { segment: db }
    ports: [5432, "6000-6010/udp"]
    action: allow
  - id: block-all-db
    from: any
    to: [{ segment: db }, { workload: cache }]
    action: reject
    priority: 50
    log: false
  - id: same-priority-allow
    from: { selector: { app: shop } }
    to: any
    action: allow
    priority: 50
`;

describe('parsePolicy', () => {
  it('normalizes a valid policy: defaults, peers, port ranges', () => {
    const policy = parsePolicy(GOOD, 'good.yaml');
    expect(policy.name).toBe('shop-segmented');
    expect(policy.mode).toBe('enforce');
    expect(policy.segments).toEqual([
      { name: 'web', selector: { tier: 'web' }, workloads: [] },
      { name: 'db', selector: { tier: 'db' }, workloads: [], mode: 'monitor' },
      { name: 'ops', workloads: ['admin', 'backup'] },
    ]);
    const webToDb = policy.rules.find((r) => r.id === 'web-to-db')!;
    expect(webToDb.priority).toBe(1000);
    expect(webToDb.log).toBe(true);
    expect(webToDb.ports).toEqual([
      { protocol: 'tcp', from: 5432, to: 5432 },
      { protocol: 'udp', from: 6000, to: 6010 },
    ]);
    expect(policy.rules.find((r) => r.id === 'block-all-db')!.to).toEqual([
      { kind: 'segment', segment: 'db' },
      { kind: 'workload', workload: 'cache' },
    ]);
  });

  it('orders rules by priority, deny before allow at a tie, then file order', () => {
    expect(parsePolicy(GOOD).rules.map((r) => r.id)).toEqual([
      'block-all-db',
      'same-priority-allow',
      'web-to-db',
    ]);
  });

  it('takes defaults for an almost empty policy', () => {
    const policy = parsePolicy('rules: []\n');
    expect(policy).toMatchObject({ mode: 'enforce', defaultAction: 'deny', segments: [], rules: [] });
  });

  it.each(REJECTED.map((f) => [f.what, f] as const))('rejects %s with its position', (_what, f) => {
    const issues = issuesOf(f.text);
    expect(issues[0]).toMatchObject({ file: 'p.yaml', line: f.line, column: f.column });
    expect(issues[0]!.message).toMatch(f.message);
  });

  it("words every problem in the policy's own terms, never the schema library's", () => {
    for (const f of REJECTED)
      for (const issue of issuesOf(f.text))
        expect(issue.message, f.what).not.toMatch(/Invalid input|Too small|Too big|received|>=|<=|expected/);
  });

  it.each([
    ['a rule id with a quote and a shell command', `'x" ; drop ; "'`],
    ['a rule id with a newline', '"a\\nb"'],
    ['a rule id with nft syntax', "'a} table ip filter {'"],
    ['a rule id with $(...)', "'$(reboot)'"],
    ['a rule id with a NUL byte', '"a\\0"'],
  ])('rejects %s', (_what, scalar) => {
    const issues = issuesOf(`rules:\n  - id: ${scalar}\n    from: any\n    to: any\n    action: allow\n`);
    expect(issues[0]).toMatchObject({ line: 2, column: 9 });
    expect(issues[0]!.message).toMatch(/rule id .* is not a safe id/);
  });

  it('rejects hostile names in segments, selectors and workloads', () => {
    const issues = issuesOf(
      [
        'segments:',
        '  "web`id`": { selector: { tier: web } }',
        '  db: { selector: { "tier;x": db } }',
        '  ops: { selector: { tier: "a b" } }',
        '  adm: { workloads: ["admin\\"}"] }',
      ].join('\n'),
    );
    expect(issues.map((i) => [i.line, i.message.split(' is ')[0]])).toEqual([
      [2, 'segment name "web`id`"'],
      [3, 'label key "tier;x"'],
      [4, 'label value "a b"'],
      [5, 'workload name "admin\\"}"'],
    ]);
  });

  it('refuses huge files before parsing them', () => {
    const text = `description: "${'x'.repeat(MAX_POLICY_BYTES)}"\n`;
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/at most 262144 bytes/);
  });

  it('refuses alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      lines.push(
        `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10)
          .fill(`*${i ? 'bcdefghi'[i - 1] : 'a'}`)
          .join(', ')}]`,
      );
    const issues = issuesOf(lines.join('\n'));
    expect(issues[0]!.message).toMatch(/bad YAML/);
  });

  it('reports every problem at once, each with its place', () => {
    const issues = issuesOf(
      'mode: enforced\nrules:\n  - id: ok\n    from: any\n    to: any\n    action: permit\n    ports: [0]\n',
    );
    expect(issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      '1:7 mode',
      '6:13 rules.0.action',
      '7:13 rules.0.ports.0',
    ]);
  });

  it('formats the error message as file:line:column lines', () => {
    expect(() => parsePolicy('mode: x\n', 'labs/p.yaml')).toThrow(
      'labs/p.yaml:1:7: mode is one of off, monitor, enforce',
    );
  });
});
