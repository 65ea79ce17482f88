import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { closedTableText, compileTables, removeTableText } from '../../electron/firewall/compile';
import { parsePolicy } from '../../electron/firewall/policy';
import { sidecarMain, tableFrame, tableLine } from '../../electron/firewall/sidecar';
import type { WorkloadInstance } from '../../electron/topology/workload';

// A holder's main process reads its loads with the shell's own loop (MAIN in sidecar.ts). Here
// that loop runs in the host's sh (dash, as the base image's), with `load` stubbed to print what
// it would hand to nft.
const main = sidecarMain();
const joinFn = /^join\(\) \{[\s\S]*?^\}$/m.exec(main)![0];
const loop = /^while IFS= read -r line; do[\s\S]*^done$/m.exec(main)![0];

function holderReadsRaw(input: string): string {
  const script = `${joinFn}\nload() { printf 'load %s [%s]\\n' "$1" "$table"; ack=; }\n${loop}\n`;
  const run = spawnSync('sh', ['-c', script], { input, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout;
}

function holderReads(input: string): string[] {
  return holderReadsRaw(input).split('\n').filter(Boolean);
}

const TABLE = [
  '# MicroLab: policy "shop" for catalog',
  'table inet microlab',
  'delete table inet microlab',
  'table inet microlab {',
  '\tset seg_web { type ipv4_addr; elements = { 10.0.0.2, 10.0.0.3 } }',
  '',
  '\tchain ingress {',
  '\t\ttype filter hook input priority filter; policy drop;',
  '\t\tct state established,related accept',
  '\t\tip saddr @seg_web tcp dport 8080 accept comment "web to catalog: ünïcode name"',
  '\t}',
  '}',
].join('\n');

describe("a holder's table load", () => {
  it("joins a table into one line exactly as the holder's own join does", () => {
    const [loaded] = holderReads(`BEGIN a\n${TABLE}\nEND a\n`);
    expect(loaded).toBe(`load a [${tableLine(TABLE)}]`);
    expect(tableLine(TABLE)).not.toContain('#');
    expect(tableLine(TABLE)).toContain(
      'table inet microlab ; delete table inet microlab ; table inet microlab {',
    );
  });

  it('takes a sized frame whole, multibyte comments included, and the frames after it', () => {
    const out = holderReads(
      `${tableFrame('b', TABLE)}${tableFrame('c', 'flush ruleset')}BEGIN d\nflush ruleset\nEND d\n`,
    );
    expect(out).toEqual([
      `load b [${tableLine(TABLE)}]`,
      'load c [ flush ruleset]',
      'load d [ flush ruleset]',
    ]);
  });

  it('takes a sized frame as bytes, with one read, not as lines to join', () => {
    // Six bytes: a comment line and an indented one, which joining would drop and trim.
    expect(holderReadsRaw('BEGIN e 6\n#a\n b\nEND e\n')).toBe('load e [#a\n b]\n');
  });

  it("joins every compiled table, in enforce and monitor mode, as the holder's join does", () => {
    const at = (name: string, tier: string, ip: string, port: number): WorkloadInstance => ({
      name,
      labels: { tier },
      ports: [{ port, protocol: 'tcp' }],
      containerId: `id-${name}`,
      containerName: `lab-${name}`,
      addresses: { lab: ip },
    });
    const instances = [
      at('web', 'web', '198.19.0.11', 8080),
      at('api', 'api', '198.19.0.20', 8080),
      at('db', 'db', '198.19.0.30', 5432),
    ];
    const policy = parsePolicy(`
name: rollout
mode: monitor
defaultAction: deny
segments:
  db: { selector: { tier: db }, mode: enforce }
  api: { selector: { tier: api } }
rules:
  - { id: api-to-db, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow }
  - { id: no-debug, from: any, to: { segment: api }, ports: ["9000-9100", "53/udp"], action: reject, priority: 5 }
`);
    const texts = [
      ...compileTables(policy, instances).map((t) => t.text),
      closedTableText(['198.19.0.1']),
      removeTableText(),
    ];
    const input = texts.map((t, i) => `BEGIN t${i}\n${t}\nEND t${i}\n`).join('');
    expect(holderReads(input)).toEqual(texts.map((t, i) => `load t${i} [${tableLine(t)}]`));
  });
});
