import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

function resolve(lines: string[]): { out: string[]; answers: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'microlab-resolver-'));
  dirs.push(dir);
  const answers = join(dir, 'answers');
  const run = spawnSync('awk', ['-v', 'table=microlab', '-v', `answers=${answers}`, TRACE_RESOLVER], {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  let answered = '';
  try {
    answered = readFileSync(answers, 'utf8');
  } catch {
    // no line was handed back
  }
  return { out: run.stdout.split('\n').filter(Boolean), answers: answered.split('\n').filter(Boolean) };
}

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
    const { out, answers } = resolve([
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
    expect(answers).toEqual([]);
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
    const { out } = resolve([
      ...listing([[2, 'ct state new meta nftrace set 1']]),
      packet('bbbb0001', 40011),
      `trace id bbbb0001 inet microlab ingress rule ${OLD_ALLOW} # handle 3 (verdict accept)`,
    ]);
    expect(out[1]).toBe('trace id bbbb0001 inet microlab ingress unknown rule handle 3 (verdict accept)');
    expect(events(out)).toMatchObject([{ ruleId: 'unknown', verdict: 'allowed' }]);
  });

  it('passes other trace lines unchanged and hands every other line back as the answer', () => {
    const other = [
      packet('cccc0001', 40021),
      'trace id cccc0001 inet microlab trace_in policy accept ',
      'trace id cccc0001 ip nat OUTPUT rule meta l4proto tcp # handle 4 (verdict continue)',
    ];
    const errors = [
      'Error: syntax error, unexpected junk',
      'table inet microlab {}; delete table inet microlab; table inet microlab { junk }',
      '                                                                         ^^^^',
      'Error: No such file or directory; did you mean table ‘microlab’ in family inet?',
      'list table inet microlab_ack_4',
      '                ^^^^^^^^^^^^^^',
    ];
    const { out, answers } = resolve([...other, ...errors]);
    expect(out).toEqual(other);
    expect(answers).toEqual(errors);
  });
});
