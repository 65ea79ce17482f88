import { describe, expect, it } from 'vitest';
import { parseCounters } from '../../electron/firewall/counters';
import { mergeFlows, TraceParser } from '../../electron/firewall/flows';
import type { FlowEvent } from '../../electron/firewall/flows';
import { classify, expectedOutcome } from '../../electron/probe/matrix';
import { nextSourcePorts } from '../../electron/probe/drops';

// As `nft monitor trace` (nft 1.0.6) prints them, behind Docker's log timestamps.
const T = '2026-11-21T19:44:10.123456789Z';
const PACKET_IN = `trace id 60fe4b52 inet microlab trace_in packet: iif "eth0" ether saddr 02:42:c6:13:fa:02 ether daddr 02:42:c6:13:fa:03 ip saddr 198.19.250.2 ip daddr 198.19.250.3 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 65288 ip protocol tcp ip length 60 tcp sport 59616 tcp dport 8080 tcp flags == syn tcp window 64240 `;
const LINES = [
  `${T} ${PACKET_IN}`,
  `${T} trace id 60fe4b52 inet microlab trace_in rule ct state new meta nftrace set 1 (verdict continue)`,
  `${T} trace id 60fe4b52 inet microlab trace_in policy accept `,
  `${T} trace id 60fe4b52 inet microlab ingress packet: iif "eth0" ip saddr 198.19.250.2 ip daddr 198.19.250.3 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 15155 ip length 60 tcp sport 59616 tcp dport 8080`,
  `${T} trace id 60fe4b52 inet microlab ingress rule ip saddr 198.19.250.2 tcp dport 8080 counter packets 1 bytes 60 accept comment "web-api allow" (verdict accept)`,
];

const names = new Map([
  ['198.19.250.2', 'web'],
  ['198.19.250.3', 'api'],
]);

function parse(lines: string[], seenBy = 'api'): FlowEvent[] {
  const parser = new TraceParser(seenBy, names);
  return lines.map((l) => parser.line(l)).filter((e): e is FlowEvent => e !== undefined);
}

describe('flow log parser', () => {
  it('turns a traced packet and its deciding rule into one event', () => {
    expect(parse(LINES)).toEqual([
      {
        time: '2026-11-21T19:44:10.123Z',
        seenBy: 'api',
        direction: 'ingress',
        src: 'web',
        dst: 'api',
        srcAddress: '198.19.250.2',
        dstAddress: '198.19.250.3',
        protocol: 'tcp',
        srcPort: 59616,
        port: 8080,
        verdict: 'allowed',
        ruleId: 'web-api',
      },
    ]);
  });

  it.each([
    ['counter packets 1 bytes 60 drop comment "default deny"', 'drop', 'denied', 'default'],
    [
      'counter packets 1 bytes 60 reject with tcp reset comment "no-admin reject"',
      'drop',
      'rejected',
      'no-admin',
    ],
    ['counter packets 1 bytes 60 accept comment "db-rule deny audit"', 'accept', 'audit', 'db-rule'],
    ['unknown rule handle 12', 'drop', 'denied', 'unknown'],
  ])('%s -> %s', (rule, verdict, expected, ruleId) => {
    const [event] = parse([
      PACKET_IN,
      `trace id 60fe4b52 inet microlab egress rule ${rule} (verdict ${verdict})`,
    ]);
    expect(event).toMatchObject({ direction: 'egress', verdict: expected, ruleId });
  });

  it('leaves out builtin rules, rules with log: false and other tables', () => {
    expect(
      parse([
        PACKET_IN,
        'trace id 60fe4b52 inet microlab ingress rule iif "lo" counter packets 0 bytes 0 accept comment "_loopback" (verdict accept)',
        PACKET_IN.replace('60fe4b52', '11111111'),
        'trace id 11111111 inet microlab ingress rule counter packets 0 bytes 0 accept comment "quiet allow nolog" (verdict accept)',
        PACKET_IN.replace('60fe4b52', '22222222'),
        'trace id 22222222 ip nat OUTPUT policy accept ',
      ]),
    ).toEqual([]);
  });

  it('keeps one event per connection, the most decisive of both ends', () => {
    const egress = parse(
      [
        PACKET_IN,
        'trace id 60fe4b52 inet microlab egress rule accept comment "x deny audit" (verdict accept)',
      ],
      'web',
    );
    const ingress = parse(
      [PACKET_IN, 'trace id 60fe4b52 inet microlab ingress rule drop comment "x deny" (verdict drop)'],
      'api',
    );
    const merged = mergeFlows([...egress, ...ingress]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ verdict: 'denied', seenBy: 'api' });
  });
});

describe('counters', () => {
  it('reads per-rule counters from nft -j, one per rule id', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'inet', name: 'microlab' } },
        { rule: { chain: 'trace_in', expr: [{ counter: { packets: 9, bytes: 9 } }] } },
        {
          rule: {
            chain: 'ingress',
            comment: '_established',
            expr: [{ counter: { packets: 40, bytes: 4000 } }, { accept: null }],
          },
        },
        {
          rule: {
            chain: 'ingress',
            comment: 'web-api allow',
            expr: [{ counter: { packets: 3, bytes: 180 } }, { accept: null }],
          },
        },
        {
          rule: {
            chain: 'ingress',
            comment: 'web-api allow',
            expr: [{ counter: { packets: 1, bytes: 60 } }, { accept: null }],
          },
        },
        {
          rule: {
            chain: 'egress',
            comment: 'default deny audit',
            expr: [{ counter: { packets: 2, bytes: 120 } }, { accept: null }],
          },
        },
      ],
    });
    expect(parseCounters(json)).toEqual({
      ingress: [
        { ruleId: '_established', action: 'builtin', packets: 40, bytes: 4000 },
        { ruleId: 'web-api', action: 'allow', packets: 4, bytes: 240 },
      ],
      egress: [{ ruleId: 'default', action: 'deny (audit)', packets: 2, bytes: 120 }],
    });
  });
});

describe('probe outcomes', () => {
  it.each([
    [0, 'Connection to 198.19.250.3 8080 port [tcp/http-alt] succeeded!', 'connected'],
    [1, 'nc: connect to 198.19.250.3 port 9090 (tcp) failed: Connection refused', 'refused'],
    [1, 'nc: connect to 198.19.250.3 port 9999 (tcp) timed out: Operation now in progress', 'timeout'],
    [1, 'nc: getaddrinfo: Name or service not known', 'error'],
  ])('exit %d, %s -> %s', (code, message, observed) => {
    expect(classify(code, message)).toBe(observed);
  });

  it('expects a connection for allowed and audit, a timeout for denied, a refusal for rejected', () => {
    expect(['allowed', 'audit', 'denied', 'rejected'].map((v) => expectedOutcome(v as never))).toEqual([
      'connected',
      'connected',
      'timeout',
      'refused',
    ]);
  });
});

describe('flow log of the perimeter router', () => {
  // What `nft monitor trace` printed in the router for a connection it allowed and one it
  // dropped (the app reaches the database's proxy address; the database calls the app).
  const LINES = [
    'trace id 10cb8b01 ip microlab_perimeter trace packet: iif "eth0" ip saddr 198.19.1.10 ip daddr 198.19.1.100 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 15155 ip length 60 tcp sport 53196 tcp dport 5432 tcp flags == syn',
    'trace id 10cb8b01 ip microlab_perimeter trace rule ct state new meta nftrace set 1 (verdict continue)',
    'trace id 10cb8b01 ip microlab_perimeter prerouting rule ip daddr 198.19.1.100 counter packets 0 bytes 0 dnat to 198.19.2.10 (verdict accept)',
    'trace id 10cb8b01 ip microlab_perimeter forward packet: iif "eth0" oif "eth1" ip saddr 198.19.1.10 ip daddr 198.19.2.10 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 15155 ip length 60 tcp sport 53196 tcp dport 5432 tcp flags == syn',
    'trace id 10cb8b01 ip microlab_perimeter forward rule ip saddr 198.19.1.10 ip daddr 198.19.2.10 tcp dport 5432 counter packets 0 bytes 0 accept comment "app-to-db allow" (verdict accept)',
    'trace id 10cb8b01 ip microlab_perimeter postrouting rule ct status dnat ip daddr 198.19.2.0/24 counter packets 0 bytes 0 snat to 198.19.2.2 (verdict accept)',
    'trace id ebc242d4 ip microlab_perimeter trace packet: iif "eth1" ip saddr 198.19.2.10 ip daddr 198.19.2.100 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 15155 ip length 60 tcp sport 48494 tcp dport 8080 tcp flags == syn',
    'trace id ebc242d4 ip microlab_perimeter forward packet: iif "eth1" oif "eth0" ip saddr 198.19.2.10 ip daddr 198.19.1.10 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 15155 ip length 60 tcp sport 48494 tcp dport 8080 tcp flags == syn',
    'trace id ebc242d4 ip microlab_perimeter forward rule ip saddr 198.19.2.10 ip daddr 198.19.1.10 tcp dport 8080 counter packets 0 bytes 0 drop comment "db-initiates-nothing deny" (verdict drop)',
  ];

  it('names both ends by their real addresses (after the proxy translation) and the deciding rule', () => {
    const names = new Map([
      ['198.19.1.10', 'shop'],
      ['198.19.2.10', 'shop-db'],
    ]);
    const parser = new TraceParser('perimeter-fw', names);
    const events = LINES.map((l) => parser.line(l)).filter((e): e is FlowEvent => e !== undefined);
    expect(events.map(({ time: _time, ...e }) => e)).toEqual([
      {
        seenBy: 'perimeter-fw',
        direction: 'forward',
        src: 'shop',
        dst: 'shop-db',
        srcAddress: '198.19.1.10',
        dstAddress: '198.19.2.10',
        protocol: 'tcp',
        srcPort: 53196,
        port: 5432,
        verdict: 'allowed',
        ruleId: 'app-to-db',
      },
      {
        seenBy: 'perimeter-fw',
        direction: 'forward',
        src: 'shop-db',
        dst: 'shop',
        srcAddress: '198.19.2.10',
        dstAddress: '198.19.1.10',
        protocol: 'tcp',
        srcPort: 48494,
        port: 8080,
        verdict: 'denied',
        ruleId: 'db-initiates-nothing',
      },
    ]);
  });
});

describe("the probe's source ports", () => {
  it('are below the ephemeral range and none comes again within 12,000 probes', () => {
    const ports = [...nextSourcePorts(5000), ...nextSourcePorts(7000)];
    expect(new Set(ports).size).toBe(12_000);
    expect(ports.every((p) => p >= 20_000 && p < 32_000)).toBe(true);
  });

  it("a rule with log: false still counts as a probe's evidence when asked for", () => {
    const lines = [
      'trace id 7 inet microlab egress packet: oif "eth0" ip saddr 198.19.250.2 ip daddr 198.19.250.3 ip protocol tcp tcp sport 20001 tcp dport 5432 tcp flags == syn',
      'trace id 7 inet microlab egress rule ip daddr 198.19.250.3 counter packets 1 bytes 60 drop comment "quiet deny nolog" (verdict drop)',
    ];
    const quiet = new TraceParser('web', names);
    expect(lines.map((l) => quiet.line(l)).filter(Boolean)).toEqual([]);
    const probe = new TraceParser('web', names, { unlogged: true });
    expect(lines.map((l) => probe.line(l)).filter(Boolean)).toMatchObject([
      { verdict: 'denied', ruleId: 'quiet', srcPort: 20001, port: 5432, direction: 'egress' },
    ]);
  });
});
