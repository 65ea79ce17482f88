import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closedTableText, compileTables, removeTableText } from '../../electron/firewall/compile';
import { parsePolicy } from '../../electron/firewall/policy';
import { sidecarMain, tableFrame, tableLine } from '../../electron/firewall/sidecar';
import type { WorkloadInstance } from '../../electron/topology/workload';

// A holder's main process reads its loads with an awk loop (MAIN_LOOP in sidecar.ts, run by the
// base image's mawk, as Debian's host). Here that loop runs in the host's awk, its `nft -i` a
// process named nft that runs (a `sleep`), its pipes to nft and to the resolver plain files, read after.
const main = sidecarMain();
const loop = /cat > \/tmp\/microlab\.main\.awk << 'MICROLAB_AWK'\n([\s\S]*?)MICROLAB_AWK\n/.exec(main)![1]!;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** What the loop hands `nft -i` and the resolver, one line each, for `input`. */
function holderReads(input: string): { nft: string[]; resolver: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'microlab-main-'));
  dirs.push(dir);
  // A process named nft that runs (the loop reads its /proc entry): `sleep`, under that name.
  const fake = join(dir, 'nft');
  symlinkSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim(), fake);
  const nft = spawn(fake, ['30']);
  try {
    const [nftin, resolver] = [join(dir, 'nft-in'), join(dir, 'resolver')];
    const run = spawnSync(
      'awk',
      [
        '-v',
        `nft=${nft.pid}`,
        '-v',
        'table=microlab',
        '-v',
        `nftin=${nftin}`,
        '-v',
        `resolver=${resolver}`,
        loop,
      ],
      { input, encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
    return { nft: read(nftin), resolver: read(resolver) };
  } finally {
    nft.kill();
  }
}

/** The lines a load hands `nft -i`: the table as one line, the listing, the marker. */
const loaded = (line: string, n: number) => [line, 'list ruleset inet', `list table inet microlab_ack_${n}`];

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
  it("joins a table into one line exactly as the holder's own join does, and announces the load first", () => {
    const { nft, resolver } = holderReads(`BEGIN a\n${TABLE}\nEND a\n`);
    expect(nft).toEqual(loaded(tableLine(TABLE), 1));
    expect(resolver).toEqual(['microlab-pending 1 a -']);
    expect(tableLine(TABLE)).not.toContain('#');
    expect(tableLine(TABLE)).toContain(
      'table inet microlab ; delete table inet microlab ; table inet microlab {',
    );
  });

  it('takes sized frames, multibyte comments included, unsized ones, listings and loads from a file, in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'microlab-load-'));
    dirs.push(dir);
    const file = join(dir, 'microlab-load.x1');
    writeFileSync(file, `${TABLE}\n`);
    const { nft, resolver } = holderReads(
      `\n${tableFrame('b', TABLE)}LIST l1\n${tableFrame('c', 'flush ruleset')}BEGIN d\nflush ruleset\nEND d\nLOAD e ${file}\n`,
    );
    expect(nft).toEqual([
      ...loaded(tableLine(TABLE), 1),
      'list table inet microlab_list_2',
      ...loaded(' flush ruleset', 3),
      ...loaded(' flush ruleset', 4),
      ...loaded(tableLine(TABLE), 5),
    ]);
    expect(resolver).toEqual([
      'microlab-pending 1 b -',
      'microlab-pending-list 2 l1',
      'microlab-pending 3 c -',
      'microlab-pending 4 d -',
      `microlab-pending 5 e ${file}`,
    ]);
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
    expect(holderReads(input).nft).toEqual(texts.flatMap((t, i) => loaded(tableLine(t), i + 1)));
  });
});
