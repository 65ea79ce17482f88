import { describe, expect, it } from 'vitest';
import {
  connectionsToCut,
  cutScript,
  parseConntrack,
  parseCutLine,
  parseCutResults,
} from '../../electron/firewall/cut';
import { TraceParser } from '../../electron/firewall/flows';
import { parsePolicy } from '../../electron/firewall/policy';
import type { WorkloadInstance } from '../../electron/topology/workload';

// As Debian's conntrack 1.4.7 prints `conntrack -L` in a workload's namespace.
const LISTING = `tcp      6 431998 ESTABLISHED src=198.19.1.3 dst=198.19.1.2 sport=41220 dport=5432 src=198.19.1.2 dst=198.19.1.3 sport=5432 dport=41220 [ASSURED] mark=0 use=1
tcp      6 86 TIME_WAIT src=198.19.1.3 dst=198.19.1.2 sport=41000 dport=5432 src=198.19.1.2 dst=198.19.1.3 sport=5432 dport=41000 [ASSURED] mark=0 use=1
tcp      6 431999 ESTABLISHED src=198.19.0.1 dst=198.19.1.3 sport=50000 dport=8080 src=198.19.1.3 dst=198.19.0.1 sport=8080 dport=50000 [ASSURED] mark=0 use=1
udp      17 25 src=198.19.1.3 dst=127.0.0.11 sport=36000 dport=53 src=127.0.0.11 dst=198.19.1.3 sport=53 dport=36000 mark=0 use=1
icmp     1 29 src=198.19.1.3 dst=198.19.1.2 type=8 code=0 id=7 src=198.19.1.2 dst=198.19.1.3 type=0 code=0 id=7 mark=0 use=1
`;

const instance = (name: string, labels: Record<string, string>, address: string, port: number) =>
  ({
    name,
    labels,
    ports: [{ port, protocol: 'tcp' }],
    containerId: `${name}-id`,
    containerName: `${name}-1`,
    addresses: { lab: address },
  }) satisfies WorkloadInstance;

const app = instance('app', { tier: 'app' }, '198.19.1.3', 8080);
const db = instance('db', { tier: 'db' }, '198.19.1.2', 5432);

const DENY_DB = parsePolicy(`
defaultAction: deny
rules:
  - { id: storefront, from: any, to: { workload: app }, ports: [8080], action: allow }
  - { id: app-db, from: { workload: app }, to: { workload: db }, ports: [5432], action: reject }
`);

describe('cutting established connections', () => {
  it('reads /proc/net/nf_conntrack as conntrack -L, IPv4 entries only', () => {
    const proc = [
      'ipv4     2 tcp      6 431999 ESTABLISHED src=198.19.1.3 dst=198.19.1.2 sport=41220 dport=5432 src=198.19.1.2 dst=198.19.1.3 sport=5432 dport=41220 [ASSURED] mark=0 zone=0 use=2',
      'ipv6     10 tcp      6 431999 ESTABLISHED src=fe80::1 dst=fe80::2 sport=1 dport=2 src=fe80::2 dst=fe80::1 sport=2 dport=1 [ASSURED] mark=0 zone=0 use=2',
      'ipv4     2 udp      17 29 src=198.19.1.3 dst=127.0.0.11 sport=36000 dport=53 src=127.0.0.11 dst=198.19.1.3 sport=53 dport=36000 mark=0 zone=0 use=2',
    ].join('\n');
    expect(parseConntrack(proc)).toEqual([
      {
        protocol: 'tcp',
        state: 'ESTABLISHED',
        src: '198.19.1.3',
        dst: '198.19.1.2',
        sport: 41220,
        dport: 5432,
      },
      { protocol: 'udp', src: '198.19.1.3', dst: '127.0.0.11', sport: 36000, dport: 53 },
    ]);
  });

  it('reads the original direction of each TCP and UDP entry, and skips ICMP', () => {
    const entries = parseConntrack(LISTING);
    expect(entries).toHaveLength(4);
    expect(entries[0]).toEqual({
      protocol: 'tcp',
      state: 'ESTABLISHED',
      src: '198.19.1.3',
      dst: '198.19.1.2',
      sport: 41220,
      dport: 5432,
    });
    expect(entries[3]).toEqual({
      protocol: 'udp',
      src: '198.19.1.3',
      dst: '127.0.0.11',
      sport: 36000,
      dport: 53,
    });
  });

  it("judges each entry as the namespace's own table does: egress for its own, ingress for its peers'", () => {
    const cuts = connectionsToCut(DENY_DB, app, [app, db], parseConntrack(LISTING));
    // app -> db is rejected by app-db; the storefront's visitor is allowed; DNS and closing entries stay.
    expect(cuts).toEqual([
      {
        entry: {
          protocol: 'tcp',
          state: 'ESTABLISHED',
          src: '198.19.1.3',
          dst: '198.19.1.2',
          sport: 41220,
          dport: 5432,
        },
        direction: 'egress',
        verdict: 'rejected',
        ruleId: 'app-db',
      },
    ]);
    // In the database's namespace the same connection arrives: ingress, decided by the same rule.
    expect(connectionsToCut(DENY_DB, db, [app, db], parseConntrack(LISTING)).map((c) => c.direction)).toEqual(
      ['ingress'],
    );
  });

  it('cuts nothing where the workload only monitors, or where the policy allows', () => {
    const monitor = { ...DENY_DB, mode: 'monitor' as const };
    expect(connectionsToCut(monitor, app, [app, db], parseConntrack(LISTING))).toEqual([]);
    const allow = parsePolicy(`
defaultAction: allow
rules: []
`);
    expect(connectionsToCut(allow, app, [app, db], parseConntrack(LISTING))).toEqual([]);
  });

  it('an address no running workload holds matches only `any` peers', () => {
    const onlyApp = parsePolicy(`
defaultAction: deny
rules:
  - { id: from-db, from: { workload: db }, to: { workload: app }, ports: [8080], action: allow }
`);
    const cuts = connectionsToCut(onlyApp, app, [app, db], parseConntrack(LISTING));
    expect(cuts.map((c) => `${c.entry.src}->${c.entry.dport} ${c.ruleId}`)).toEqual([
      '198.19.1.3->5432 default',
      '198.19.0.1->8080 default',
    ]);
  });

  it('writes a delete per entry, logs it for the flow log, and reads back which succeeded', () => {
    const cuts = connectionsToCut(DENY_DB, app, [app, db], parseConntrack(LISTING));
    const script = cutScript(cuts);
    expect(script).toContain('conntrack -D -p tcp -s 198.19.1.3 -d 198.19.1.2 --sport 41220 --dport 5432');
    expect(script).toContain('microlab-cut egress tcp 198.19.1.3 41220 198.19.1.2 5432 rejected app-db');
    expect(parseCutResults('deleted 0 0\ndeleted 1 1\ndeleted 2 0\n')).toEqual(new Set([0, 2]));
  });

  it('the flow log shows a cut connection as an event of its own', () => {
    const line =
      '2026-11-30T12:00:00.000000000Z microlab-cut egress tcp 198.19.1.3 41220 198.19.1.2 5432 rejected app-db';
    expect(parseCutLine(line)?.ruleId).toBe('app-db');
    const parser = new TraceParser(
      'app',
      new Map([
        ['198.19.1.3', 'app'],
        ['198.19.1.2', 'db'],
      ]),
    );
    expect(parser.line(line)).toEqual({
      time: '2026-11-30T12:00:00.000Z',
      seenBy: 'app',
      direction: 'egress',
      src: 'app',
      dst: 'db',
      srcAddress: '198.19.1.3',
      dstAddress: '198.19.1.2',
      protocol: 'tcp',
      srcPort: 41220,
      port: 5432,
      verdict: 'rejected',
      ruleId: 'app-db',
      cut: true,
    });
  });
});
