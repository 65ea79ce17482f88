import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TraceParser } from '../../electron/firewall/flows';
import type { FlowEvent } from '../../electron/firewall/flows';
import { TRACE_RESOLVER } from '../../electron/firewall/sidecar';

// The holder runs this program with the base image's awk (mawk, as Debian's host); here it runs
// with the host's, over lines as `nft -a monitor trace` and `nft -a -i` (nftables 1.0.6) print them.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'microlab-resolver-'));
  dirs.push(dir);
  return dir;
}

/** A connection table with no entry. */
function emptyFile(): string {
  const file = join(scratch(), 'nf_conntrack');
  writeFileSync(file, '');
  return file;
}

/** The resolver's stdout over `lines`; `conntrack` names the file it lists connections from. */
function resolve(lines: string[], conntrack = emptyFile()): string[] {
  const run = spawnSync('awk', ['-v', 'table=microlab', '-v', `conntrack=${conntrack}`, TRACE_RESOLVER], {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

/** What `nft -a -i` prints for a marker command (nftables 1.0.6): the error, the command, the carets. */
const marker = (name: string) => [
  'Error: No such file or directory',
  `list table inet ${name}`,
  '                ^^^^^^^^^^^^^^',
];

function listing(rules: [number, string][]): string[] {
  return [
    'table inet microlab { # handle 7',
    '\tchain ingress { # handle 1',
    '\t\ttype filter hook input priority filter; policy drop;',
    ...rules.map(([h, r]) => `\t\t${r} # handle ${h}`),
    '\t}',
    '}',
  ];
}

const packet = (id: string, sport: number) =>
  `trace id ${id} inet microlab ingress packet: iif "eth0" ip saddr 198.19.250.2 ip daddr 198.19.250.3 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 1 ip protocol tcp ip length 60 tcp sport ${sport} tcp dport 8080 tcp flags == syn tcp window 64240 `;
const OLD_ALLOW =
  'ip saddr 198.19.250.2 tcp dport 8080 counter packets 0 bytes 0 accept comment "web-api allow"';
const NEW_DROP = 'ip saddr 198.19.250.2 tcp dport 8080 counter packets 0 bytes 0 drop comment "no-web deny"';

function events(lines: string[]): FlowEvent[] {
  const parser = new TraceParser('api', new Map(), { unlogged: true });
  return lines.map((l) => parser.line(l)).filter((e): e is FlowEvent => e !== undefined);
}

describe('the trace resolver', () => {
  it('names a traced rule by the listing logged before its trace line, across a reload that reused its handle', () => {
    const out = resolve([
      // Before any listing: the monitor's own text (it knows the table it started with).
      packet('aaaa0001', 40001),
      `trace id aaaa0001 inet microlab ingress rule ${OLD_ALLOW} # handle 3 (verdict accept)`,
      ...listing([
        [2, 'ct state new meta nftrace set 1'],
        [3, OLD_ALLOW],
      ]),
      packet('aaaa0002', 40002),
      `trace id aaaa0002 inet microlab ingress rule ${OLD_ALLOW} # handle 3 (verdict accept)`,
      // A reload: the new table's rule 3 is another rule, which the monitor still prints as the old one.
      ...listing([
        [2, 'ct state new meta nftrace set 1'],
        [3, NEW_DROP],
      ]),
      packet('aaaa0003', 40003),
      `trace id aaaa0003 inet microlab ingress rule ${OLD_ALLOW} # handle 3 (verdict drop)`,
      // A handle the monitor never saw, and one the latest listing does not have either.
      packet('aaaa0004', 40004),
      'trace id aaaa0004 inet microlab ingress unknown rule handle 3 (verdict drop)',
      packet('aaaa0005', 40005),
      'trace id aaaa0005 inet microlab ingress unknown rule handle 9 (verdict drop)',
    ]);
    expect(out.filter((l) => !l.startsWith('trace '))).toEqual([]);
    expect(out).toContain(`trace id aaaa0003 inet microlab ingress rule ${NEW_DROP} (verdict drop)`);
    expect(events(out).map((e) => [e.srcPort, e.ruleId, e.verdict])).toEqual([
      [40001, 'web-api', 'allowed'],
      [40002, 'web-api', 'allowed'],
      [40003, 'no-web', 'denied'],
      [40004, 'no-web', 'denied'],
      [40005, 'unknown', 'denied'],
    ]);
  });

  it('after a listing, does not trust the monitor text for a handle the listing lacks', () => {
    const out = resolve([
      ...listing([[2, 'ct state new meta nftrace set 1']]),
      packet('bbbb0001', 40011),
      `trace id bbbb0001 inet microlab ingress rule ${OLD_ALLOW} # handle 3 (verdict accept)`,
    ]);
    expect(out[1]).toBe('trace id bbbb0001 inet microlab ingress unknown rule handle 3 (verdict accept)');
    expect(events(out)).toMatchObject([{ ruleId: 'unknown', verdict: 'allowed' }]);
  });

  it('passes other trace lines unchanged, and answers a load at its marker with the errors before it', () => {
    const other = [
      packet('cccc0001', 40021),
      'trace id cccc0001 inet microlab trace_in policy accept ',
      'trace id cccc0001 ip nat OUTPUT rule meta l4proto tcp # handle 4 (verdict continue)',
    ];
    const out = resolve([
      'microlab-pending 4 77.4 -',
      other[0]!,
      'Error: syntax error, unexpected junk',
      'table inet microlab {}; delete table inet microlab; table inet microlab { junk }',
      '                                                                         ^^^^',
      other[1]!,
      ...marker('microlab_ack_4'),
      other[2]!,
      // The next load loads: its listing, then its marker.
      'microlab-pending 5 77.5 -',
      ...listing([[2, 'ct state new meta nftrace set 1']]),
      ...marker('microlab_ack_5'),
      // A marker nobody announced (a MicroLab that restarted) answers nothing.
      ...marker('microlab_ack_9'),
    ]);
    expect(out).toEqual([
      other[0],
      other[1],
      'microlab-load 77.4 failed: Error: syntax error, unexpected junk',
      other[2],
      'microlab-load 77.5 ok',
    ]);
  });

  it('lists the connections at the listing marker, after the load before it, and says when it cannot', () => {
    const dir = scratch();
    const conntrack = join(dir, 'nf_conntrack');
    const entries = [
      'ipv4     2 tcp      6 431999 ESTABLISHED src=198.19.0.2 dst=198.19.0.3 sport=40000 dport=8080 [ASSURED] mark=0 zone=0 use=2',
      'ipv4     2 udp      17 29 src=198.19.0.2 dst=198.19.0.1 sport=5353 dport=53 [UNREPLIED] mark=0 zone=0 use=2',
    ];
    writeFileSync(conntrack, `${entries.join('\n')}\n`);
    const lines = [
      'microlab-pending 1 9.1 -',
      'microlab-pending-list 2 9.2',
      ...marker('microlab_ack_1'),
      ...marker('microlab_list_2'),
    ];
    expect(resolve(lines, conntrack)).toEqual([
      'microlab-load 9.1 ok',
      `microlab-ct 9.2 ${entries[0]}`,
      `microlab-ct 9.2 ${entries[1]}`,
      'microlab-listed 9.2 ok',
    ]);
    // No kernel file and no conntrack tool (the host running this test has none in its PATH here).
    const awk = spawnSync('sh', ['-c', 'command -v awk'], { encoding: 'utf8' }).stdout.trim();
    const bare = spawnSync(
      awk,
      ['-v', 'table=microlab', '-v', `conntrack=${join(dir, 'none')}`, TRACE_RESOLVER],
      {
        input: `microlab-pending-list 3 9.3\n${marker('microlab_list_3').join('\n')}\n`,
        encoding: 'utf8',
        env: { PATH: dir },
      },
    );
    expect(bare.stdout).toMatch(/^microlab-listed 9\.3 failed: .*conntrack/m);
  });

  it('takes an announcement that falls inside a listing, and answers what it announced', () => {
    // Another load is announced while `nft -i` still lists the table of the one before.
    const out = resolve([
      'microlab-pending 1 a -',
      'table inet microlab { # handle 7',
      'microlab-pending-list 2 l1',
      '\tchain ingress { # handle 1',
      'microlab-pending 3 b -',
      '\t}',
      '}',
      ...marker('microlab_ack_1'),
      ...marker('microlab_list_2'),
      ...marker('microlab_ack_3'),
    ]);
    expect(out).toEqual(['microlab-load a ok', 'microlab-listed l1 ok', 'microlab-load b ok']);
  });

  it('answers at once for a main process with no `nft -i`: its load answer and its listing', () => {
    const dir = scratch();
    const conntrack = join(dir, 'nf_conntrack');
    writeFileSync(conntrack, 'ipv4     2 tcp      6 10 CLOSE src=198.19.0.2 dst=198.19.0.3 dport=7000\n');
    const out = resolve(
      [
        'microlab-answer - microlab-load 8.1 failed: /tmp/microlab.table:1:7-9: Error: syntax error',
        'microlab-answer - microlab-load 8.2 ok',
        'microlab-list-now 8.3',
      ],
      conntrack,
    );
    expect(out).toEqual([
      'microlab-load 8.1 failed: /tmp/microlab.table:1:7-9: Error: syntax error',
      'microlab-load 8.2 ok',
      'microlab-ct 8.3 ipv4     2 tcp      6 10 CLOSE src=198.19.0.2 dst=198.19.0.3 dport=7000',
      'microlab-listed 8.3 ok',
    ]);
  });

  it('answers a load by exec (Podman) into its file, whole, and removes the load\u2019s file', () => {
    const dir = scratch();
    const file = join(dir, 'microlab-load.abc123');
    writeFileSync(file, 'table inet microlab {}\n');
    const out = resolve([`microlab-pending 1 5.1 ${file}`, ...marker('microlab_ack_1')]);
    expect(out).toEqual([]);
    expect(readFileSync(`${file}.ack`, 'utf8')).toBe('microlab-load 5.1 ok\n');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.part`)).toBe(false);
  });
});
