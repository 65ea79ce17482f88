import { describe, expect, it } from 'vitest';
import {
  closedTableText,
  compileTable,
  compileTables,
  parseRuleComment,
  removeTableText,
  ruleComment,
  TRACE_NEW,
  tableNamesAddress,
} from '../../electron/firewall/compile';
import { parsePolicy } from '../../electron/firewall/policy';
import type { WorkloadInstance } from '../../electron/topology/workload';

function instance(
  name: string,
  labels: Record<string, string>,
  ip: string,
  ports = [8080],
): WorkloadInstance {
  return {
    name,
    labels,
    ports: ports.map((port) => ({ port, protocol: 'tcp' as const })),
    containerId: `id-${name}-${ip}`,
    containerName: `lab-${name}-${ip.split('.').at(-1)}`,
    addresses: { lab: ip },
  };
}

const web1 = instance('web', { tier: 'web' }, '198.19.0.11');
const web2 = instance('web', { tier: 'web' }, '198.19.0.12');
const api = instance('api', { tier: 'api' }, '198.19.0.20', [8080, 9000]);
const db = instance('db', { tier: 'db' }, '198.19.0.30', [5432]);
const instances = [web1, web2, api, db];

const POLICY = parsePolicy(`
name: three-tier
defaultAction: deny
segments:
  web: { selector: { tier: web } }
  api: { selector: { tier: api } }
  db: { selector: { tier: db } }
rules:
  - { id: web-api, from: { segment: web }, to: { segment: api }, ports: [8080, "9000-9100", "53/udp"], action: allow }
  - { id: api-db, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow, log: false }
  - { id: no-debug, from: any, to: { segment: api }, ports: [9000], action: reject, priority: 5 }
  - { id: quarantine, from: { workload: ghost }, to: any, action: deny }
`);

/** The rule lines of one chain, indentation dropped. */
function chain(text: string, name: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `chain ${name} {`);
  expect(start).toBeGreaterThan(0);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '}');
  return lines.slice(start + 2, end).map((l) => l.trim());
}

describe('compiler', () => {
  it('replaces only its own table, atomically, in one file', () => {
    const { text } = compileTable(POLICY, api, instances);
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines.slice(0, 3)).toEqual([
      'table inet microlab {}',
      'delete table inet microlab',
      'table inet microlab {',
    ]);
    expect(text).not.toMatch(/flush ruleset|table ip nat|table ip filter/);
    expect(removeTableText()).toBe('table inet microlab {}\ndelete table inet microlab\n');
  });

  it('marks only new connections for tracing, in the deciding chains, after loopback and DNS', () => {
    const { text } = compileTable(POLICY, api, instances);
    for (const name of ['ingress', 'egress']) {
      const rules = chain(text, name);
      expect(rules.filter((r) => r.includes('nftrace'))).toEqual([TRACE_NEW]);
      // Everything before the mark ends in a verdict (so it is never traced).
      expect(rules.indexOf(TRACE_NEW)).toBe(rules.findIndex((r) => r.includes('"_invalid"')) + 1);
    }
    // No chain of its own, so no hook before the deciding chains prints the packet again.
    expect(text).not.toMatch(/hook prerouting|priority -150/);
  });

  it('ingress: builtins, then the rules that reach this workload in order, then the default', () => {
    expect(chain(compileTable(POLICY, api, instances).text, 'ingress')).toEqual([
      'iif "lo" counter accept comment "_loopback"',
      'ct state established,related counter accept comment "_established"',
      'ct state invalid counter drop comment "_invalid"',
      'ct state new meta nftrace set 1',
      'tcp dport 9000 counter reject with tcp reset comment "no-debug reject"',
      '# quarantine deny: no running workload matches its peers',
      'ip saddr { 198.19.0.11, 198.19.0.12 } tcp dport { 8080, 9000-9100 } counter accept comment "web-api allow"',
      'ip saddr { 198.19.0.11, 198.19.0.12 } udp dport 53 counter accept comment "web-api allow"',
      // a mid-stream packet of a cut connection gets a reset; a new connection is dropped
      'tcp flags & (syn | rst) == 0 counter reject with tcp reset comment "default deny"',
      'counter drop comment "default deny"',
    ]);
  });

  it('egress: Docker DNS and loopback kept, rules from this workload, no-peer rules left as comments', () => {
    expect(chain(compileTable(POLICY, api, instances).text, 'egress')).toEqual([
      'ip daddr 127.0.0.11 counter accept comment "_dns"',
      'oif "lo" counter accept comment "_loopback"',
      'ct state established,related counter accept comment "_established"',
      'ct state invalid counter drop comment "_invalid"',
      'ct state new meta nftrace set 1',
      // from any: api's own egress holds it too (towards its own address)
      'ip daddr 198.19.0.20 tcp dport 9000 counter reject with tcp reset comment "no-debug reject"',
      'ip daddr 198.19.0.30 tcp dport 5432 counter accept comment "api-db allow nolog"',
      // a mid-stream packet of a cut connection gets a reset; a new connection is dropped
      'tcp flags & (syn | rst) == 0 counter reject with tcp reset comment "default deny"',
      'counter drop comment "default deny"',
    ]);
    const ghost = instance('ghost', {}, '198.19.0.99');
    const egress = chain(compileTable(POLICY, ghost, instances).text, 'egress');
    expect(egress).toContain('counter drop comment "quarantine deny"');
    expect(chain(compileTable(POLICY, api, instances).text, 'ingress')).not.toContain('quarantine');
  });

  it("Podman: DNS to its resolvers (the networks' gateways) on port 53 only, udp and tcp; the rest as on Docker", () => {
    const podmanApi = { ...api, resolvers: ['198.19.1.1', '198.19.0.1'] };
    const egress = chain(compileTable(POLICY, podmanApi, instances).text, 'egress');
    expect(egress.slice(0, 4)).toEqual([
      'ip daddr 127.0.0.11 counter accept comment "_dns"',
      'ip daddr { 198.19.0.1, 198.19.1.1 } udp dport 53 counter accept comment "_dns"',
      'ip daddr { 198.19.0.1, 198.19.1.1 } tcp dport 53 counter accept comment "_dns"',
      'oif "lo" counter accept comment "_loopback"',
    ]);
    expect(egress.slice(3)).toEqual(chain(compileTable(POLICY, api, instances).text, 'egress').slice(1));
    expect(chain(compileTable(POLICY, podmanApi, instances).text, 'ingress')).toEqual(
      chain(compileTable(POLICY, api, instances).text, 'ingress'),
    );
  });

  it("a holder's closed table: loopback and the resolver only (Docker's inside; Podman's gateway, port 53)", () => {
    const docker = closedTableText();
    expect(chain(docker, 'ingress')).toEqual(['iif "lo" counter accept comment "_loopback"']);
    expect(chain(docker, 'egress')).toEqual([
      'ip daddr 127.0.0.11 counter accept comment "_dns"',
      'oif "lo" counter accept comment "_loopback"',
    ]);
    expect(docker).toContain('type filter hook output priority 0; policy drop;');
    expect(chain(closedTableText(['10.213.8.1']), 'egress')).toEqual([
      'ip daddr 127.0.0.11 counter accept comment "_dns"',
      'ip daddr 10.213.8.1 udp dport 53 counter accept comment "_dns"',
      'ip daddr 10.213.8.1 tcp dport 53 counter accept comment "_dns"',
      'oif "lo" counter accept comment "_loopback"',
    ]);
  });

  it('every policy rule has a counter and a comment carrying its id', () => {
    for (const { text } of compileTables(POLICY, instances)) {
      for (const name of ['ingress', 'egress']) {
        for (const line of chain(text, name).filter((l) => !l.startsWith('#') && l !== TRACE_NEW)) {
          expect(line).toMatch(/(^| )counter (accept|drop|reject[^"]*) comment "[^"]+"$/);
        }
      }
    }
  });

  it('monitor mode accepts would-be denials and marks them audit', () => {
    const monitored = parsePolicy(`
mode: monitor
defaultAction: reject
rules:
  - { id: deny-db, from: any, to: { selector: { tier: db } }, action: deny, priority: 1 }
  - { id: ok, from: any, to: any, ports: [8080], action: allow }
`);
    const ingress = chain(compileTable(monitored, db, instances).text, 'ingress');
    expect(ingress.slice(4)).toEqual([
      'counter accept comment "deny-db deny audit"',
      'tcp dport 8080 counter accept comment "ok allow"',
      'counter accept comment "default reject audit"',
    ]);
  });

  it('enforce mode: reject answers TCP with a reset and everything else with ICMP', () => {
    const rejecting = parsePolicy('defaultAction: reject\nrules: []\n');
    expect(chain(compileTable(rejecting, db, instances).text, 'ingress').slice(4)).toEqual([
      'meta l4proto tcp counter reject with tcp reset comment "default reject"',
      'counter reject comment "default reject"',
    ]);
  });

  it('mode off removes the table', () => {
    const off = parsePolicy('mode: off\nrules: []\n');
    expect(compileTable(off, db, instances)).toMatchObject({ mode: 'off', text: removeTableText() });
    const partly = parsePolicy('segments:\n  db: { selector: { tier: db }, mode: off }\n');
    expect(compileTables(partly, instances).map((t) => t.mode)).toEqual([
      'enforce',
      'enforce',
      'enforce',
      'off',
    ]);
  });

  it('replicas get the same rules and appear in each other peer sets', () => {
    const [a, b] = compileTables(POLICY, instances);
    expect(chain(a!.text, 'egress')).toEqual(chain(b!.text, 'egress'));
    expect(a!.containerId).not.toBe(b!.containerId);
  });

  it('ignores addresses that are not IPv4', () => {
    const odd = { ...web1, addresses: { lab: '198.19.0.11', v6: 'fe80::1', bad: '1.2.3.4; drop' } };
    const text = compileTable(POLICY, api, [odd, api, db]).text;
    expect(text).toContain('ip saddr 198.19.0.11 tcp dport');
    expect(text).not.toMatch(/fe80|drop;|1\.2\.3\.4/);
  });

  it('rule comments round-trip', () => {
    expect(parseRuleComment(ruleComment('a-b', 'deny', { audit: true, log: false }))).toEqual({
      id: 'a-b',
      action: 'deny',
      audit: true,
      log: false,
    });
    expect(parseRuleComment('_established')).toEqual({
      id: '_established',
      action: 'builtin',
      audit: false,
      log: false,
    });
    expect(parseRuleComment('x maybe')).toBeUndefined();
  });
});

describe('tableNamesAddress', () => {
  const table = 'ip saddr { 198.19.0.20, 198.19.1.2 } accept\nip daddr 10.0.0.7/32 drop';
  it('finds an address only whole', () => {
    expect(tableNamesAddress(table, '198.19.0.20')).toBe(true);
    expect(tableNamesAddress(table, '198.19.1.2')).toBe(true);
    expect(tableNamesAddress(table, '10.0.0.7')).toBe(true);
    expect(tableNamesAddress(table, '198.19.0.2')).toBe(false);
    expect(tableNamesAddress(table, '98.19.1.2')).toBe(false);
    expect(tableNamesAddress(table, '198.19.1.25')).toBe(false);
  });
});
